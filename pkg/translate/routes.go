package translate

import (
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/shardmesh/shardmesh/pkg/clients"
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
// (the default), routes by x-shard (exact shard name), by x-keyspace-id
// (the shard whose key range holds it) and, when every keyspace the class
// goes to is unsharded, one route needing neither header. A class whose
// traffic is split between keyspaces (a keyspace routing rule or a shift)
// gets weighted clusters, cut along both keyspaces' key ranges so that a
// keyspace id lands on the shard that owns it in each. A request that
// matches no route fails with UNAVAILABLE (gRPC) or 404 (Envoy); the
// encoding's last route, if it has one, makes old C-core fail it the same
// way (matchersFor).
func makeRouteConfig(ks *topology.Keyspace, plan routePlan, enc clients.Encoding) *routev3.RouteConfiguration {
	m := matchersFor(enc)
	var routes []*routev3.Route
	for _, c := range weights.Classes {
		routes = append(routes, classRoutes(ks, plan[c], c, m, m.exact(HeaderTabletType, string(c)))...)
	}
	routes = append(routes, classRoutes(ks, plan[weights.ClassPrimary], weights.ClassPrimary, m, absent(HeaderTabletType))...)
	if m.unmatched != nil {
		routes = append(routes, m.unmatched())
	}
	return &routev3.RouteConfiguration{
		Name: ks.Name,
		VirtualHosts: []*routev3.VirtualHost{{
			Name:    ks.Name,
			Domains: []string{"*"},
			Routes:  routes,
		}},
	}
}

func classRoutes(ks *topology.Keyspace, sides []routeSide, c weights.Class, m matchers, typeMatch *routev3.HeaderMatcher) []*routev3.Route {
	action := func(pick func(routeSide) *topology.Shard) *routev3.RouteAction {
		var wcs []*routev3.WeightedCluster_ClusterWeight
		for _, sd := range sides {
			if s := pick(sd); s != nil {
				wcs = append(wcs, &routev3.WeightedCluster_ClusterWeight{
					Name: ClusterName(sd.keyspace, s.Name, c), Weight: wrapperspb.UInt32(sd.weight),
				})
			}
		}
		a := &routev3.RouteAction{RetryPolicy: retryPolicy(ks, c)}
		switch len(wcs) {
		case 0:
			return nil
		case 1:
			a.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: wcs[0].Name}
		default:
			a.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: wcs}}
		}
		return a
	}
	var out []*routev3.Route
	add := func(a *routev3.RouteAction, headers ...*routev3.HeaderMatcher) {
		if a != nil {
			out = append(out, route(a, headers...))
		}
	}
	if unsharded(sides) {
		add(action(func(sd routeSide) *topology.Shard { return sd.shards[0] }), typeMatch)
		return out
	}
	for _, name := range shardNames(sides) {
		add(action(func(sd routeSide) *topology.Shard { return shardNamed(sd.shards, name) }), typeMatch, m.exact(HeaderShard, name))
	}
	for _, piece := range pieces(sides) {
		if re := keyRangeRegex(piece); re != "" {
			add(action(func(sd routeSide) *topology.Shard { return shardHolding(sd.shards, piece) }), typeMatch, m.regex(HeaderKeyspaceID, re))
		}
	}
	// An unsharded side still serves requests without a shard header (an
	// unsharded keyspace moving to a sharded one): they cannot be split.
	add(action(func(sd routeSide) *topology.Shard {
		if len(sd.shards) == 1 {
			return sd.shards[0]
		}
		return nil
	}), typeMatch)
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

// absent matches requests without the header (present_match inverted, which
// Envoy and gRPC read the same way).
func absent(name string) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{
		Name:                 name,
		HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true},
		InvertMatch:          true,
	}
}
