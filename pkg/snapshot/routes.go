package snapshot

import (
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// Request headers that select a route.
const (
	HeaderTabletType = "x-tablet-type"
	HeaderShard      = "x-shard"
	HeaderKeyspaceID = "x-keyspace-id"
)

// makeRouteConfig returns the route configuration "<keyspace>": for every
// class, then for the primary class again without the x-tablet-type header
// (the default), one route per shard matching x-shard exactly and one
// matching x-keyspace-id against the shard's key range. An unsharded
// keyspace needs neither header. A request that matches no route fails
// with UNAVAILABLE (gRPC) or 404 (Envoy).
func makeRouteConfig(ks *topology.Keyspace, shards []*topology.Shard) *routev3.RouteConfiguration {
	var routes []*routev3.Route
	typed := func(c weights.Class) *routev3.HeaderMatcher { return exact(HeaderTabletType, string(c)) }
	for _, c := range weights.Classes {
		routes = append(routes, shardRoutes(ks, shards, c, typed(c))...)
	}
	routes = append(routes, shardRoutes(ks, shards, weights.ClassPrimary, absent(HeaderTabletType))...)
	return &routev3.RouteConfiguration{
		Name: ks.Name,
		VirtualHosts: []*routev3.VirtualHost{{
			Name:    ks.Name,
			Domains: []string{"*"},
			Routes:  routes,
		}},
	}
}

func shardRoutes(ks *topology.Keyspace, shards []*topology.Shard, c weights.Class, typeMatch *routev3.HeaderMatcher) []*routev3.Route {
	action := func(s *topology.Shard) *routev3.RouteAction {
		return &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: ClusterName(ks.Name, s.Name, c)},
			RetryPolicy:      retryPolicy(ks, c),
		}
	}
	if len(shards) == 1 {
		return []*routev3.Route{route(action(shards[0]), typeMatch)}
	}
	var out []*routev3.Route
	for _, s := range shards {
		out = append(out, route(action(s), typeMatch, exact(HeaderShard, s.Name)))
	}
	for _, s := range shards {
		if re := keyRangeRegex(s.Range); re != "" {
			out = append(out, route(action(s), typeMatch, regex(HeaderKeyspaceID, re)))
		}
	}
	return out
}

// bufferRetries is how many times a write is retried during a reparent:
// gRPC allows at most 5 attempts per call by default.
const bufferRetries = 4

// retryPolicy rides writes through a reparent, the mesh analogue of VTGate's
// buffering: while the shard has no serving primary the cluster is empty and
// calls fail with UNAVAILABLE before reaching any tablet, so retrying them
// is safe. Back-off doubles from BufferWindow/15, so the four retries span
// about BufferWindow (gRPC adds ±20% jitter, Envoy full jitter). Reads need
// no such policy: they have other tablets to go to.
func retryPolicy(ks *topology.Keyspace, c weights.Class) *routev3.RetryPolicy {
	if c != weights.ClassPrimary && c != weights.ClassReadAfterWrite {
		return nil
	}
	return &routev3.RetryPolicy{
		RetryOn:    "unavailable,connect-failure,refused-stream",
		NumRetries: wrapperspb.UInt32(bufferRetries),
		RetryBackOff: &routev3.RetryPolicy_RetryBackOff{
			BaseInterval: durationpb.New(ks.BufferWindow / 15),
			MaxInterval:  durationpb.New(ks.BufferWindow / 2),
		},
	}
}

func route(action *routev3.RouteAction, headers ...*routev3.HeaderMatcher) *routev3.Route {
	return &routev3.Route{
		Match: &routev3.RouteMatch{
			PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
			Headers:       headers,
		},
		Action: &routev3.Route_Route{Route: action},
	}
}

func exact(name, value string) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{Name: name, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
		StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: value}},
	}}
}

func regex(name, re string) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{Name: name, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
		StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{
			SafeRegex: &matcherv3.RegexMatcher{Regex: re},
		}},
	}}
}

// absent matches requests without the header (present_match inverted, which
// Envoy and gRPC read the same way).
func absent(name string) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{
		Name:                 name,
		HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true},
		InvertMatch:          true,
	}
}
