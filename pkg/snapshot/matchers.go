package snapshot

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
}

// matchersFor returns the header matchers of an encoding: string_match
// (gRFC A63; Envoy's only non-deprecated form) for clients.Current and ""
// alike, exact_match and safe_regex_match for clients.Legacy, which gRPC
// releases from before A63 require (they reject a route whose header
// matcher they do not know, and with it the whole route configuration).
func matchersFor(enc clients.Encoding) matchers {
	if enc == clients.Legacy {
		return matchers{exact: legacyExact, regex: legacyRegex}
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
