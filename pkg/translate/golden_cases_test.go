package translate_test

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// A golden case: testdata/<name>.topology.yaml, records put after it (for
// what a seed file cannot hold), the node groups to render (standardGroups
// when nil), and checks of what the case is about. The golden files hold
// the whole output; the checks say which parts of it matter and why.
var goldenCases = map[string]struct {
	put    []topology.Record
	groups map[string]translate.Group
	check  func(t *testing.T, r rendered)
}{
	"movetables-shift-done": {
		put: []topology.Record{{Key: "shifts/customer-to-commerce", Value: []byte(`{"keyspace":"customer","tablet_type":"replica",
			"to_keyspace":"commerce","steps":[25,50,100],"hold":"1h","started_at":"2026-11-21T08:00:00Z"}`)}},
		check: func(t *testing.T, r rendered) {
			for key, clusters := range routeTargets(routeConfig(t, r, "grpc-us-east-1a", "customer"), "replica") {
				for _, c := range clusters {
					if !strings.HasPrefix(c, "commerce/") && key != "no shard header" && key != "x-shard=0" {
						t.Errorf("at 100%%, replica route %s goes to %s", key, c)
					}
				}
			}
		},
	},
	"movetables-shift": {
		put: []topology.Record{{Key: "shifts/customer-to-commerce", Value: []byte(`{"keyspace":"customer","tablet_type":"replica",
			"to_keyspace":"commerce","steps":[25,50,100],"hold":"1h","started_at":"2026-11-21T10:30:00Z"}`)}},
		check: func(t *testing.T, r rendered) {
			// Replica reads: 50% stay on customer/0, 50% go to the commerce
			// shard that owns the keyspace id; requests without a shard
			// header stay on the unsharded source.
			want := map[string][]string{
				"x-shard=-80":                          {"commerce/-80/replica"},
				"x-shard=0":                            {"customer/0/replica"},
				"x-shard=80-":                          {"commerce/80-/replica"},
				"x-keyspace-id in [,8000000000000000)": {"customer/0/replica=50", "commerce/-80/replica=50"},
				"x-keyspace-id in [8000000000000000,)": {"customer/0/replica=50", "commerce/80-/replica=50"},
				"no shard header":                      {"customer/0/replica"},
			}
			if diff := cmp.Diff(want, routeTargets(routeConfig(t, r, "grpc-us-east-1a", "customer"), "replica")); diff != "" {
				t.Errorf("customer replica routes (-want +got):\n%s", diff)
			}
			// rdonly: all of it to commerce by the routing rule.
			for _, clusters := range routeTargets(routeConfig(t, r, "envoy-us-east-1a", "customer"), "rdonly") {
				for _, c := range clusters {
					if !strings.HasPrefix(c, "commerce/") {
						t.Errorf("customer rdonly route to %s, want commerce only", c)
					}
				}
			}
			// Writes have not moved.
			for _, clusters := range routeTargets(routeConfig(t, r, "grpc-us-east-1a", "customer"), "primary") {
				if !slices.Equal(clusters, []string{"customer/0/primary"}) {
					t.Errorf("customer primary route to %v, want customer/0/primary only", clusters)
				}
			}
		},
	},
	"healthy-baseline": {
		groups: with(standardGroups, "grpc-no-locality", translate.Group{Kind: weights.KindGRPC}),
		check: func(t *testing.T, r rendered) {
			wantEndpoints(t, r, "envoy-us-east-1a", "commerce/-80/replica",
				"P0 zone1 w100: zone1-0000000102 HEALTHY/100",
				"P1 zone2 w100: zone2-0000000201 HEALTHY/100",
				"P2 zone3 w100: zone3-0000000301 HEALTHY/100")
			wantEndpoints(t, r, "grpc-us-west-2a", "commerce/80-/replica",
				"P0 zone3-0000000311 100.0%", "P1 zone1-0000000111", "P1 zone2-0000000212")
			// Async replicas never serve read-after-write.
			wantEndpoints(t, r, "envoy-us-east-1a", "commerce/-80/read-after-write",
				"P0 zone1 w100: zone1-0000000101 HEALTHY/100",
				"P1 zone1 w100: zone1-0000000102 HEALTHY/100",
				"P2 zone2 w100: zone2-0000000201 HEALTHY/100")
			// gRPC: one locality per tablet, weighted by its share (capacity).
			wantEndpoints(t, r, "grpc-no-locality", "customer/0/replica",
				"P0 zone2-0000000221 66.7%", "P0 zone3-0000000321 33.3%")
			// Sharded: x-shard and x-keyspace-id routes per class, plus the
			// default (primary) class. Unsharded: one route per class.
			if n := len(routeConfig(t, r, "envoy-us-east-1a", "commerce").VirtualHosts[0].Routes); n != 5*4 {
				t.Errorf("commerce has %d routes, want 20", n)
			}
			if n := len(routeConfig(t, r, "envoy-us-east-1a", "customer").VirtualHosts[0].Routes); n != 5 {
				t.Errorf("customer has %d routes, want 5", n)
			}
		},
	},
	"local-not-serving": {
		check: func(t *testing.T, r rendered) {
			wantEndpoints(t, r, "envoy-us-east-1a", "commerce/0/replica",
				"P0 zone1 w100: zone1-0000000102 UNHEALTHY/100",
				"P1 zone2 w100: zone2-0000000201 HEALTHY/100",
				"P2 zone3 w200: zone3-0000000301 HEALTHY/100, zone3-0000000302 HEALTHY/100")
			wantEndpoints(t, r, "grpc-us-east-1a", "commerce/0/rdonly",
				"P0 zone2-0000000202 100.0%", "P1 zone3-0000000303")
		},
	},
	"region-down": {
		check: func(t *testing.T, r rendered) {
			wantEndpoints(t, r, "grpc-us-east-1a", "commerce/0/replica",
				"P0 zone3-0000000301 50.0%", "P0 zone3-0000000302 50.0%")
			wantEndpoints(t, r, "envoy-us-west-2a", "commerce/0/replica",
				"P0 zone3 w200: zone3-0000000301 HEALTHY/100, zone3-0000000302 HEALTHY/100",
				"P1 zone1 w100: zone1-0000000102 UNHEALTHY/100",
				"P1 zone2 w100: zone2-0000000201 UNHEALTHY/100")
			for group := range standardGroups {
				wantNoUsable(t, r, group, "commerce/0/primary")
			}
		},
	},
	"reparent": {
		check: func(t *testing.T, r rendered) {
			wantEndpoints(t, r, "envoy-us-west-2a", "commerce/0/primary",
				"P0 zone1 w100: zone1-0000000101 DRAINING/100",
				"P0 zone2 w100: zone2-0000000204 HEALTHY/100")
			wantEndpoints(t, r, "grpc-us-east-1a", "commerce/0/primary", "P0 zone2-0000000204 100.0%")
		},
	},
	"split-brain": {
		check: func(t *testing.T, r rendered) {
			for group, g := range standardGroups {
				if g.Kind == weights.KindGRPC {
					wantEndpoints(t, r, group, "commerce/0/primary", "P0 zone3-0000000304 100.0%")
					continue
				}
				wantEndpoints(t, r, group, "commerce/0/primary",
					"P0 zone1 w100: zone1-0000000101 UNHEALTHY/100", "P0 zone3 w100: zone3-0000000304 HEALTHY/100")
			}
		},
	},
	"lagging-replicas": {
		check: func(t *testing.T, r rendered) {
			wantEndpoints(t, r, "envoy-us-east-1a", "commerce/0/replica",
				"P0 zone1 w100: zone1-0000000102 DEGRADED/100",
				"P1 zone2 w100: zone2-0000000201 UNHEALTHY/100",
				"P2 zone3 w200: zone3-0000000301 HEALTHY/100, zone3-0000000302 UNHEALTHY/100")
			wantEndpoints(t, r, "grpc-us-east-1a", "commerce/0/replica",
				"P0 zone1-0000000102 100.0%", "P1 zone3-0000000301")
			wantEndpoints(t, r, "grpc-us-west-2a", "commerce/0/rdonly", "P0 zone1-0000000103 100.0%")
			wantEndpoints(t, r, "envoy-us-west-2a", "commerce/0/rdonly",
				"P0 zone3 w100: zone3-0000000303 UNHEALTHY/100",
				"P1 zone1 w100: zone1-0000000103 DEGRADED/100",
				"P1 zone2 w100: zone2-0000000202 UNHEALTHY/100")
		},
	},
	"schema-mismatch": {
		check: func(t *testing.T, r rendered) {
			wantEndpoints(t, r, "envoy-us-west-2a", "commerce/0/replica",
				"P0 zone3 w200: zone3-0000000301 HEALTHY/100, zone3-0000000302 UNHEALTHY/100",
				"P1 zone1 w100: zone1-0000000102 UNHEALTHY/100",
				"P1 zone2 w100: zone2-0000000201 HEALTHY/100")
			wantEndpoints(t, r, "grpc-us-east-1a", "commerce/0/rdonly",
				"P0 zone1-0000000103 100.0%", "P1 zone3-0000000303")
		},
	},
	"cross-region-false": {
		check: func(t *testing.T, r rendered) {
			wantEndpoints(t, r, "envoy-us-east-1a", "commerce/0/replica",
				"P0 zone1 w100: zone1-0000000102 HEALTHY/100",
				"P1 zone2 w100: zone2-0000000201 HEALTHY/100")
			wantEndpoints(t, r, "grpc-us-west-2a", "commerce/0/replica",
				"P0 zone3-0000000301 50.0%", "P0 zone3-0000000302 50.0%")
			wantEndpoints(t, r, "grpc-us-west-2a", "commerce/0/primary", "P0 zone1-0000000101 100.0%")
			wantEndpoints(t, r, "envoy-us-west-2a", "commerce/0/read-after-write",
				"P0 zone1 w100: zone1-0000000101 HEALTHY/100",
				"P1 zone3 w100: zone3-0000000302 HEALTHY/100")
		},
	},
	"tenant-keyspace": {
		groups: map[string]translate.Group{
			"envoy-us-east-1a-acme":  {Kind: weights.KindEnvoy, Region: "us-east-1", Zone: "us-east-1a", Tenant: "acme"},
			"grpc-us-west-2a-acme":   {Kind: weights.KindGRPC, Region: "us-west-2", Zone: "us-west-2a", Tenant: "acme"},
			"envoy-us-east-1a":       envoyEast,
			"grpc-us-west-2a-globex": {Kind: weights.KindGRPC, Region: "us-west-2", Zone: "us-west-2a", Tenant: "globex"},
		},
		check: func(t *testing.T, r rendered) {
			for group, snap := range r.snaps {
				want := []string{"commerce"}
				if strings.HasSuffix(group, "-acme") {
					want = []string{"acme_orders", "commerce"}
				}
				perKeyspace := []string{resourcev3.ListenerType, resourcev3.RouteType}
				if strings.HasPrefix(group, "envoy") {
					// Envoy: one HTTP listener, a scope per keyspace.
					perKeyspace = []string{resourcev3.ScopedRouteType, resourcev3.RouteType}
				}
				for _, typeURL := range perKeyspace {
					if got := slices.Sorted(maps.Keys(snap.GetResources(typeURL))); !slices.Equal(got, want) {
						t.Errorf("group %s: %s %v, want %v", group, typeURL, got, want)
					}
				}
				for _, typeURL := range []string{resourcev3.ClusterType, resourcev3.EndpointType} {
					for name := range snap.GetResources(typeURL) {
						if ks, _, _ := strings.Cut(name, "/"); !slices.Contains(want, ks) {
							t.Errorf("group %s receives %s %s", group, typeURL, name)
						}
					}
				}
			}
			wantEndpoints(t, r, "envoy-us-east-1a-acme", "acme_orders/0/replica",
				"P0 zone2 w100: zone2-0000000231 HEALTHY/100",
				"P1 zone3 w100: zone3-0000000331 HEALTHY/100")
		},
	},
	"malformed-tablet": {
		put: []topology.Record{
			{Key: "tablets/zone2-0000000201", Value: []byte(`{"keyspace":"commerce","shard":"0","type":"replica","cell":"zone2",` +
				`"hostname":"10.0.2.201","port_map":{"grpc":70000},"state":"SERVING","replication":"semi-sync","schema_version":"v42"}`)},
			{Key: "tablets/zone1-0000000199", Value: []byte(`{"keyspace":"commerce","shard":"0","type":"repl`)},
		},
		check: func(t *testing.T, r rendered) {
			var got []string
			for _, p := range r.topo.Problems {
				got = append(got, p.Key+" => "+p.Err.Error())
			}
			want := []string{
				"tablets/zone1-0000000199 => tablet zone1-0000000199: not a JSON object: unexpected EOF",
				"tablets/zone2-0000000201 => tablet zone2-0000000201: port_map.grpc: 70000 out of range",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			for group, snap := range r.snaps {
				for name, res := range snap.GetResources(resourcev3.EndpointType) {
					for _, line := range claLines(res.(*endpointv3.ClusterLoadAssignment)) {
						if strings.Contains(line, "zone2-0000000201") || strings.Contains(line, "zone1-0000000199") {
							t.Errorf("group %s, %s routes to a malformed tablet: %s", group, name, line)
						}
					}
				}
			}
			wantEndpoints(t, r, "envoy-us-east-1a", "commerce/0/replica",
				"P0 zone1 w100: zone1-0000000102 HEALTHY/100",
				"P1 zone3 w200: zone3-0000000301 HEALTHY/100, zone3-0000000302 HEALTHY/100")
		},
	},
	"empty-rdonly": {
		check: func(t *testing.T, r rendered) {
			for group, snap := range r.snaps {
				if _, ok := snap.GetResources(resourcev3.ClusterType)["commerce/0/rdonly"]; !ok {
					t.Errorf("group %s has no cluster commerce/0/rdonly", group)
				}
				wantEndpoints(t, r, group, "commerce/0/rdonly")
			}
		},
	},
}

// with returns a copy of groups with one more group.
func with(groups map[string]translate.Group, name string, g translate.Group) map[string]translate.Group {
	out := maps.Clone(groups)
	out[name] = g
	return out
}

// claLines renders an assignment one locality a line, as the weights tests
// do: "P0 zone1 w200: zone1-0000000102 HEALTHY/100, ...".
func claLines(cla *endpointv3.ClusterLoadAssignment) []string {
	var out []string
	for _, l := range cla.GetEndpoints() {
		var eps []string
		for _, e := range l.GetLbEndpoints() {
			eps = append(eps, fmt.Sprintf("%s %s/%d", e.GetEndpoint().GetHostname(), e.GetHealthStatus(), e.GetLoadBalancingWeight().GetValue()))
		}
		out = append(out, fmt.Sprintf("P%d %s w%d: %s", l.GetPriority(), l.GetLocality().GetSubZone(),
			l.GetLoadBalancingWeight().GetValue(), strings.Join(eps, ", ")))
	}
	return out
}

func assignment(t *testing.T, r rendered, group, cluster string) *endpointv3.ClusterLoadAssignment {
	t.Helper()
	snap, ok := r.snaps[group]
	if !ok {
		t.Fatalf("no group %s", group)
	}
	res, ok := snap.GetResources(resourcev3.EndpointType)[cluster]
	if !ok {
		t.Fatalf("group %s has no assignment %s", group, cluster)
	}
	return res.(*endpointv3.ClusterLoadAssignment)
}

// grpcLines renders an assignment of a gRPC group: priority 0's tablets
// with their share of traffic, then the failover order.
func grpcLines(cla *endpointv3.ClusterLoadAssignment) []string {
	total := 0.0
	for _, l := range cla.GetEndpoints() {
		if l.GetPriority() == 0 {
			total += float64(l.GetLoadBalancingWeight().GetValue())
		}
	}
	var out []string
	for _, l := range cla.GetEndpoints() {
		if l.GetPriority() == 0 {
			out = append(out, fmt.Sprintf("P0 %s %.1f%%", l.GetLocality().GetSubZone(), 100*float64(l.GetLoadBalancingWeight().GetValue())/total))
		} else {
			out = append(out, fmt.Sprintf("P%d %s", l.GetPriority(), l.GetLocality().GetSubZone()))
		}
	}
	return out
}

// wantEndpoints checks one assignment of one group; gRPC groups are
// compared in grpcLines form.
func wantEndpoints(t *testing.T, r rendered, group, cluster string, want ...string) {
	t.Helper()
	render := claLines
	if strings.HasPrefix(group, "grpc") {
		render = grpcLines
	}
	if diff := cmp.Diff(want, render(assignment(t, r, group, cluster))); diff != "" {
		t.Errorf("group %s, %s (-want +got):\n%s", group, cluster, diff)
	}
}

// wantNoUsable checks that an assignment has no endpoint a client may use.
func wantNoUsable(t *testing.T, r rendered, group, cluster string) {
	t.Helper()
	for _, line := range claLines(assignment(t, r, group, cluster)) {
		if strings.Contains(line, " HEALTHY/") || strings.Contains(line, " DEGRADED/") {
			t.Errorf("group %s, %s has a usable endpoint: %s", group, cluster, line)
		}
	}
}

func routeConfig(t *testing.T, r rendered, group, name string) *routev3.RouteConfiguration {
	t.Helper()
	res, ok := r.snaps[group].GetResources(resourcev3.RouteType)[name]
	if !ok {
		t.Fatalf("group %s has no route configuration %s", group, name)
	}
	return res.(*routev3.RouteConfiguration)
}

// TestEnvoyGroupsGetSocketListeners: Envoy installs an api_listener only
// from its bootstrap, never over LDS, so Envoy node groups get the HTTP
// listener on its documented address, with a scope per keyspace mapping
// :authority to the keyspace's route configuration; gRPC groups get API
// listeners.
func TestEnvoyGroupsGetSocketListeners(t *testing.T) {
	r := renderGroups(t, loadSeed(t, "healthy-baseline").Build(1), standardGroups)
	for group, g := range standardGroups {
		listeners := r.snaps[group].GetResources(resourcev3.ListenerType)
		if g.Kind == weights.KindGRPC {
			for name, res := range listeners {
				if res.(*listenerv3.Listener).GetApiListener() == nil {
					t.Errorf("gRPC group %s: listener %s is not an API listener", group, name)
				}
			}
			continue
		}
		l, ok := listeners[translate.HTTPListenerName].(*listenerv3.Listener)
		if !ok || len(listeners) != 1 {
			t.Fatalf("Envoy group %s: listeners %v, want only %s", group, slices.Sorted(maps.Keys(listeners)), translate.HTTPListenerName)
		}
		if sa := l.GetAddress().GetSocketAddress(); l.GetApiListener() != nil || sa.GetPortValue() != translate.HTTPListenerPort || sa.GetAddress() != translate.HTTPListenerAddress {
			t.Errorf("Envoy group %s: listener at %v (api_listener %v), want %s:%d", group, sa, l.GetApiListener() != nil, translate.HTTPListenerAddress, translate.HTTPListenerPort)
		}
		for name, res := range r.snaps[group].GetResources(resourcev3.ScopedRouteType) {
			sc := res.(*routev3.ScopedRouteConfiguration)
			if sc.GetRouteConfigurationName() != name || sc.GetKey().GetFragments()[0].GetStringKey() != name {
				t.Errorf("Envoy group %s: scope %s maps key %v to %s", group, name, sc.GetKey(), sc.GetRouteConfigurationName())
			}
		}
	}
}

// routeTargets maps each route of a class (by its shard matcher) to its
// clusters, with weights when split ("commerce/-80/replica=50").
func routeTargets(rc *routev3.RouteConfiguration, class string) map[string][]string {
	out := map[string][]string{}
	for _, rt := range rc.GetVirtualHosts()[0].GetRoutes() {
		key, typed := "no shard header", false
		for _, h := range rt.GetMatch().GetHeaders() {
			switch h.GetName() {
			case translate.HeaderTabletType:
				typed = h.GetStringMatch().GetExact() == class
			case translate.HeaderShard:
				key = "x-shard=" + h.GetStringMatch().GetExact()
			case translate.HeaderKeyspaceID:
				key = "x-keyspace-id in " + keyRangeOf(h.GetStringMatch().GetSafeRegex().GetRegex())
			}
		}
		if !typed {
			continue
		}
		if c := rt.GetRoute().GetCluster(); c != "" {
			out[key] = append(out[key], c)
		}
		for _, wc := range rt.GetRoute().GetWeightedClusters().GetClusters() {
			out[key] = append(out[key], fmt.Sprintf("%s=%d", wc.GetName(), wc.GetWeight().GetValue()))
		}
	}
	return out
}

// keyRangeOf names the range a generated key range regex matches, found by
// probing: the smallest and the first unmatched 16-digit ids.
func keyRangeOf(re string) string {
	m := regexp.MustCompile("^(?:" + re + ")$")
	lo, hi := "", ""
	for _, id := range []string{"0000000000000000", "8000000000000000"} {
		if m.MatchString(id) && lo == "" {
			lo = id
		}
	}
	if lo == "0000000000000000" {
		lo = ""
	}
	if lo == "" && !m.MatchString("8000000000000000") {
		hi = "8000000000000000"
	}
	return "[" + lo + "," + hi + ")"
}
