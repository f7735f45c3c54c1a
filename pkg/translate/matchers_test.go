package translate_test

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	gocmp "github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/shardmesh/shardmesh/pkg/clients"
	"github.com/shardmesh/shardmesh/pkg/translate"
)

// TestLegacyEncodingRoutesTheSameRequests: a group of clients from before
// gRFC A63 gets route configurations without a single string_match header
// matcher (such clients reject the whole configuration for one), and each
// is the current encoding's with only the matchers' form changed. Both
// groups build from one Translator, so a memo shared across encodings
// would show here.
func TestLegacyEncodingRoutesTheSameRequests(t *testing.T) {
	legacyEast, legacyEnvoy, coreEast := grpcEast, envoyEast, grpcEast
	legacyEast.Encoding, legacyEnvoy.Encoding, coreEast.Encoding = clients.Legacy, clients.Legacy, clients.LegacyCore
	for _, seed := range []string{"healthy-baseline", "movetables-shift"} {
		t.Run(seed, func(t *testing.T) {
			r := renderGroups(t, loadSeed(t, seed).Build(1), map[string]translate.Group{
				"grpc": grpcEast, "grpc-legacy": legacyEast, "envoy-legacy": legacyEnvoy, "grpc-legacy-core": coreEast,
			})
			current := r.snaps["grpc"].GetResources(resourcev3.RouteType)
			if len(current) == 0 {
				t.Fatal("no route configurations")
			}
			for _, group := range []string{"grpc-legacy", "envoy-legacy", "grpc-legacy-core"} {
				legacy := r.snaps[group].GetResources(resourcev3.RouteType)
				if len(legacy) != len(current) {
					t.Fatalf("%s: %d route configurations, current encoding %d", group, len(legacy), len(current))
				}
				for name := range current {
					rc := legacy[name].(*routev3.RouteConfiguration)
					asCurrent := proto.Clone(rc).(*routev3.RouteConfiguration)
					if group == "grpc-legacy-core" {
						// One more route, last: unmatched calls get 503 (UNAVAILABLE).
						vh := asCurrent.GetVirtualHosts()[0]
						last := vh.GetRoutes()[len(vh.GetRoutes())-1]
						if last.GetDirectResponse().GetStatus() != 503 || len(last.GetMatch().GetHeaders()) != 0 {
							t.Errorf("%s: route configuration %s ends with %v, want a direct 503 for every request", group, name, last)
						}
						vh.Routes = vh.Routes[:len(vh.Routes)-1]
					}
					n := 0
					for _, rt := range asCurrent.GetVirtualHosts()[0].GetRoutes() {
						for _, h := range rt.GetMatch().GetHeaders() {
							if h.GetStringMatch() != nil {
								t.Errorf("%s: route configuration %s has a string_match matcher on %s", group, name, h.GetName())
							}
							n += upgrade(h)
						}
					}
					if n == 0 {
						t.Errorf("%s: route configuration %s has no legacy matcher", group, name)
					}
					if diff := gocmp.Diff(current[name], asCurrent, protocmp.Transform()); diff != "" {
						t.Errorf("%s: route configuration %s differs from the current encoding's beyond matcher forms (-current +legacy):\n%s", group, name, diff)
					}
				}
			}
		})
	}
}

// upgrade rewrites a legacy header matcher into its string_match form and
// returns 1, or returns 0 for any other matcher.
func upgrade(h *routev3.HeaderMatcher) int {
	switch m := h.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_ExactMatch:
		h.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Exact{Exact: m.ExactMatch}}}
		return 1
	case *routev3.HeaderMatcher_SafeRegexMatch:
		h.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: m.SafeRegexMatch}}}
		return 1
	}
	return 0
}
