package translate

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/shardmesh/shardmesh/pkg/clients"
)

// matchers writes header matchers in one encoding: the same match, in the
// form a set of clients accepts.
type matchers struct {
	exact func(name, value string) *routev3.HeaderMatcher
	regex func(name, re string) *routev3.HeaderMatcher
	// unmatched, when set, is a last route that every request no other
	// route matched reaches.
	unmatched func() *routev3.Route
}

// matchersFor returns the header matchers of an encoding: string_match
// (gRFC A63; Envoy's only non-deprecated form) for clients.Current and ""
// alike, exact_match and safe_regex_match for clients.Legacy and
// clients.LegacyCore, which gRPC releases from before A63 require (they
// reject a route whose header matcher they do not know, and with it the
// whole route configuration).
func matchersFor(enc clients.Encoding) matchers {
	switch enc {
	case clients.Legacy:
		return matchers{exact: legacyExact, regex: legacyRegex}
	case clients.LegacyCore:
		return matchers{exact: legacyExact, regex: legacyRegex, unmatched: unmatchedUnavailable}
	}
	return matchers{exact: exact, regex: regex}
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

func legacyExact(name, value string) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{Name: name, HeaderMatchSpecifier: &routev3.HeaderMatcher_ExactMatch{ExactMatch: value}}
}

func legacyRegex(name, re string) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{Name: name, HeaderMatchSpecifier: &routev3.HeaderMatcher_SafeRegexMatch{
		SafeRegexMatch: &matcherv3.RegexMatcher{Regex: re},
	}}
}

// unmatchedUnavailable answers calls that match no other route, for
// clients.LegacyCore. gRPC C-core 1.51 fails such a call with INTERNAL
// ("unknown cluster") where gRFC A28 says UNAVAILABLE; C-core fails a call
// whose route it does not forward (direct_response) with UNAVAILABLE.
// grpc-go of the same age would fail it with INTERNAL, hence an encoding
// of its own.
func unmatchedUnavailable() *routev3.Route {
	return &routev3.Route{
		Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 503}},
	}
}
