package snapshot

import (
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
func makeRouteConfig(keyspace string, shards []*topology.Shard) *routev3.RouteConfiguration {
	var routes []*routev3.Route
	typed := func(c weights.Class) *routev3.HeaderMatcher { return exact(HeaderTabletType, string(c)) }
	for _, c := range weights.Classes {
		routes = append(routes, shardRoutes(keyspace, shards, c, typed(c))...)
	}
	routes = append(routes, shardRoutes(keyspace, shards, weights.ClassPrimary, absent(HeaderTabletType))...)
	return &routev3.RouteConfiguration{
		Name: keyspace,
		VirtualHosts: []*routev3.VirtualHost{{
			Name:    keyspace,
			Domains: []string{"*"},
			Routes:  routes,
		}},
	}
}

func shardRoutes(keyspace string, shards []*topology.Shard, c weights.Class, typeMatch *routev3.HeaderMatcher) []*routev3.Route {
	if len(shards) == 1 {
		return []*routev3.Route{route(ClusterName(keyspace, shards[0].Name, c), typeMatch)}
	}
	var out []*routev3.Route
	for _, s := range shards {
		out = append(out, route(ClusterName(keyspace, s.Name, c), typeMatch, exact(HeaderShard, s.Name)))
	}
	for _, s := range shards {
		if re := keyRangeRegex(s.Range); re != "" {
			out = append(out, route(ClusterName(keyspace, s.Name, c), typeMatch, regex(HeaderKeyspaceID, re)))
		}
	}
	return out
}

func route(cluster string, headers ...*routev3.HeaderMatcher) *routev3.Route {
	return &routev3.Route{
		Match: &routev3.RouteMatch{
			PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
			Headers:       headers,
		},
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster},
		}},
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
