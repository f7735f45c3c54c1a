package e2e

// One scenario table run against every proxyless xDS client family the
// suite drives: grpc-go (in-process), grpc-js-xds (test/node) and gRPC
// C-core (Debian's python3-grpcio, test/python). What one family does, the
// others must do: routing by header, zone → region → other region
// failover, Envoy's proportional spill and slow-start ramp, read-after-write
// consistency, reparents and the controlled error.

import (
	"fmt"
	"math"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// family is an xDS client implementation the parity table runs against.
type family struct {
	name string
	dial func(e *env, n xdstest.Node, keyspace string) counter
}

// families are the client families of the parity table, by docs/clients.md
// name.
var families = []family{
	{"grpc-go", func(e *env, n xdstest.Node, ks string) counter { return e.dial(n, ks) }},
	{"grpc-js", func(e *env, n xdstest.Node, ks string) counter { return procCounter{e.t, e.dialNode(n, ks)} }},
	{"grpc-core", func(e *env, n xdstest.Node, ks string) counter { return procCounter{e.t, e.dialCCore(n, ks)} }},
	{"grpc-go-1.55", func(e *env, n xdstest.Node, ks string) counter { return procCounter{e.t, e.dialOldGo(n, ks)} }},
	{"grpc-js-1.10", func(e *env, n xdstest.Node, ks string) counter { return procCounter{e.t, e.dialOldNode(n, ks)} }},
}

// paritySteps are the scenarios of the parity table, by name.
var paritySteps = []struct {
	name string
	run  func(t *testing.T, e *env, f family)
}{
	{"routing by x-shard, x-keyspace-id and x-tablet-type", parityRouting},
	{"zone → region → other region and back", parityFailover},
	{"proportional spill matches Envoy", paritySpill},
	{"a DEGRADED replica keeps its reduced share", parityDegraded},
	{"read-after-write never reaches an async replica", parityReadAfterWrite},
	{"reparent to the newest term", parityReparent},
	{"writes retried through a reparent", parityRetries},
	{"slow-start ramp matches Envoy", parityRamp},
	{"UNAVAILABLE when nothing is safe", parityNothingSafe},
}

// TestClientParity runs every scenario against every client family, each
// on its own fleet. Each ends with no NACK from any client (newEnv).
func TestClientParity(t *testing.T) {
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			for _, s := range paritySteps {
				t.Run(s.name, func(t *testing.T) { s.run(t, newEnv(t), f) })
			}
		})
	}
}

func parityRouting(t *testing.T, e *env, f family) {
	c := f.dial(e, inR1A, "commerce")
	eventuallyOnly(t, c, one("zone1-0000000101"), "x-shard", "-80")
	for name, tc := range headerCases {
		if got := c.Count(20, tc.headers...); !got.Only(tc.want) {
			t.Errorf("%s: calls went to %v, want all to %s", name, got, tc.want)
		}
	}
	u := f.dial(e, inR2A, "customer")
	eventuallyOnly(t, u, one("zone1-0000000121")) // unsharded: no shard header needed
	eventuallyOnly(t, u, one("zone3-0000000321"), "x-tablet-type", "replica")
}

func parityFailover(t *testing.T, e *env, f family) {
	a, b := f.dial(e, inR1A, "commerce"), f.dial(e, inR1B, "commerce")
	eventuallyOnly(t, a, one("zone1-0000000102"), replicaMinus80...)
	eventuallyOnly(t, b, one("zone2-0000000201"), replicaMinus80...)

	e.update("zone1-0000000102", map[string]any{"state": "NOT_SERVING"})
	eventuallyOnly(t, a, one("zone2-0000000201"), replicaMinus80...) // same region, other zone
	eventuallyOnly(t, b, one("zone2-0000000201"), replicaMinus80...)

	e.update("zone2-0000000201", map[string]any{"state": "NOT_SERVING"})
	eventuallyOnly(t, a, one("zone3-0000000301"), replicaMinus80...) // other region
	eventuallyOnly(t, b, one("zone3-0000000301"), replicaMinus80...)

	e.update("zone1-0000000102", map[string]any{"state": "SERVING"})
	e.update("zone2-0000000201", map[string]any{"state": "SERVING"})
	eventuallyOnly(t, a, one("zone1-0000000102"), replicaMinus80...)
	eventuallyOnly(t, b, one("zone2-0000000201"), replicaMinus80...)
}

func paritySpill(t *testing.T, e *env, f family) {
	c := f.dial(e, inR1A, "orders")
	replica := []string{"x-tablet-type", "replica"}
	eventuallyOnly(t, c, []string{"zone1-0000000401", "zone1-0000000402"}, replica...)
	e.update("zone1-0000000402", map[string]any{"state": "NOT_SERVING"})
	waitRevision(t, e)
	want := envoySplit(t, e, inR1A, "orders", "0", weights.ClassReplica)
	if math.Abs(want["zone1-0000000401"]-0.7) > 1e-9 || math.Abs(want["zone2-0000000403"]-0.3) > 1e-9 {
		t.Fatalf("Envoy's formula gives %v, want 70%% zone1-0000000401 / 30%% zone2-0000000403", want)
	}
	got := oneSample(t, e, c, inR1A, "orders", "0", weights.ClassReplica, replica...)
	t.Logf("%s: one of two local replicas down: measured %v, Envoy's formula %v", f.name, got, want)
}

// parityDegraded: a replica lagging between lag.degraded and lag.max is
// DEGRADED: it keeps serving at a weight reduced with its lag, which gRPC
// groups receive as its locality's share (docs/routing.md).
func parityDegraded(t *testing.T, e *env, f family) {
	c := f.dial(e, inR1A, "orders")
	replica := []string{"x-tablet-type", "replica"}
	eventuallyOnly(t, c, []string{"zone1-0000000401", "zone1-0000000402"}, replica...)
	e.update("zone1-0000000402", map[string]any{"replication_lag_seconds": 20}) // orders: degraded 10s, max 30s
	waitConverged(t, e, inR1A)
	want := servedSplit(t, e, inR1A, "orders", "0", weights.ClassReplica)
	if share := want["zone1-0000000402"]; share <= 0.05 || share >= 0.45 {
		t.Fatalf("the lagging replica's share is %.3f (%v), want a reduced one, between 5%% and 45%%", share, want)
	}
	got := c.Count(splitCalls, replica...)
	checkSplit(t, got, want)
	t.Logf("%s: zone1-0000000402 DEGRADED: measured %v, served shares %v", f.name, got, want)
}

func parityReadAfterWrite(t *testing.T, e *env, f family) {
	// Read-after-write calls are retried on UNAVAILABLE for the keyspace's
	// buffer window, like writes (see parityNothingSafe): a short window
	// makes them end with UNAVAILABLE within their 2 s deadline.
	e.put("keyspaces/commerce", `{"lag":{"degraded":"5s","max":"30s","min_serving":1},"buffer_window":"300ms"}`)
	e.update("zone2-0000000201", map[string]any{"replication": "async"})
	e.update("zone3-0000000301", map[string]any{"replication_lag_seconds": 5})
	raw := []string{"x-tablet-type", "read-after-write", "x-shard", "-80"}
	c := f.dial(e, inR1B, "commerce") // its own zone's replica is the async one
	eventuallyOnly(t, c, one("zone1-0000000101"), raw...)
	e.update("zone1-0000000101", map[string]any{"state": "NOT_SERVING"})
	eventuallyOnly(t, c, one("zone1-0000000102"), raw...) // semi-sync and caught up, in another zone
	e.update("zone1-0000000102", map[string]any{"replication_lag_seconds": 2})
	eventuallyOnly(t, c, one(xdstest.Unavailable), raw...)
	if n := e.backends["zone2-0000000201"].Calls(); n > 0 {
		t.Errorf("the async replica served %d calls", n)
	}
}

func parityReparent(t *testing.T, e *env, f family) {
	c := f.dial(e, inR1A, "commerce")
	eventuallyOnly(t, c, one("zone1-0000000101"), "x-shard", "-80")
	e.update("zone1-0000000101", map[string]any{"state": "DRAINING"})
	e.update("zone2-0000000201", map[string]any{"type": "primary", "primary_term_start": "2026-11-24T09:00:00Z"})
	eventuallyOnly(t, c, one("zone2-0000000201"), "x-shard", "-80")
	// The old primary claims SERVING again with its older term: writes
	// stay with the newest term.
	e.update("zone1-0000000101", map[string]any{"state": "SERVING"})
	waitConverged(t, e, inR1A)
	if got := c.Count(50, "x-shard", "-80"); !got.Only("zone2-0000000201") {
		t.Errorf("after the old primary claimed SERVING, writes went to %v, want all to zone2-0000000201", got)
	}
}

// parityRetries: a write that starts while the shard has no primary is
// retried (the route's retry policy) until the new primary appears, and
// succeeds. The client has taken the old primary out before the calls
// start, and the new primary is written right after: the calls start well
// before it can reach them (an etcd write, a batch and a push away).
func parityRetries(t *testing.T, e *env, f family) {
	// Back-off from 100 ms to 750 ms: four retries fit in a call's 2 s.
	e.put("keyspaces/commerce", `{"lag":{"degraded":"5s","max":"30s","min_serving":1},"buffer_window":"1500ms"}`)
	c := f.dial(e, inR1A, "commerce")
	eventuallyOnly(t, c, one("zone1-0000000101"), "x-shard", "-80")
	e.update("zone1-0000000101", map[string]any{"state": "NOT_SERVING"})
	waitConverged(t, e, inR1A)
	// A client ACKs an update before its load balancer applies it: wait
	// until a write finds no primary (it fails once its retries run out).
	xdstest.Eventually(t, 20*time.Second, func() (bool, string) {
		got := c.Count(1, "x-shard", "-80")
		return got["zone1-0000000101"] == 0, fmt.Sprintf("a write still went to %v", got)
	})
	done := make(chan xdstest.Counts, 1)
	go func() { done <- c.Count(3, "x-shard", "-80") }()
	e.update("zone2-0000000201", map[string]any{"type": "primary", "primary_term_start": "2026-11-24T09:00:00Z"})
	select {
	case got := <-done:
		if !got.Only("zone2-0000000201") {
			t.Errorf("writes started while the shard had no primary went to %v, want all retried onto zone2-0000000201", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the writes never returned")
	}
}

func parityRamp(t *testing.T, e *env, f family) {
	e.put("keyspaces/orders", `{"ramp":{"window":"1h","min_weight_percent":10}}`)
	c := f.dial(e, inR1A, "orders")
	replica := []string{"x-tablet-type", "replica"}
	eventuallyOnly(t, c, []string{"zone1-0000000401", "zone1-0000000402"}, replica...)
	for _, tc := range []struct {
		age   time.Duration
		share float64 // of zone1-0000000402, by the ramp arithmetic
	}{
		{0, 10.0 / 110},                // step 0: 10%
		{30 * time.Minute, 55.0 / 155}, // step 2: 55%
		{2 * time.Hour, 0.5},           // done
	} {
		since := time.Now().Add(-tc.age).UTC().Format(time.RFC3339)
		e.update("zone1-0000000402", map[string]any{"serving_since": since})
		waitRevision(t, e)
		want := envoySplit(t, e, inR1A, "orders", "0", weights.ClassReplica)
		if math.Abs(want["zone1-0000000402"]-tc.share) > 0.001 {
			t.Fatalf("serving for %v: Envoy's formula gives the ramping replica %.3f, want %.3f", tc.age, want["zone1-0000000402"], tc.share)
		}
		got := oneSample(t, e, c, inR1A, "orders", "0", weights.ClassReplica, replica...)
		t.Logf("%s: serving for %v: measured %v, Envoy's formula %v", f.name, tc.age, got, want)
	}
}

func parityNothingSafe(t *testing.T, e *env, f family) {
	c := f.dial(e, inR1A, "commerce")
	eventuallyOnly(t, c, one("zone1-0000000101"), "x-shard", "-80")
	noTabletServes := func(n int, headers ...string) {
		t.Helper()
		before := map[string]int{}
		for alias, b := range e.backends {
			before[alias] = b.Calls()
		}
		if got := c.Count(n, headers...); !got.Only(xdstest.Unavailable) {
			t.Errorf("headers %q: calls went to %v, want all to fail with %s", headers, got, xdstest.Unavailable)
		}
		for alias, b := range e.backends {
			if n := b.Calls() - before[alias]; n > 0 {
				t.Errorf("headers %q: tablet %s served %d calls", headers, alias, n)
			}
		}
	}
	noTabletServes(20, "x-shard", "c0-")                            // unknown shard: no route
	noTabletServes(20, "x-tablet-type", "rdonly", "x-shard", "-80") // no rdonly tablets
	// Every tablet of the shard NOT_SERVING. Writes are retried on
	// UNAVAILABLE for the keyspace's buffer window (10 s by default, past
	// the calls' 2 s deadline); a short window makes them end with
	// UNAVAILABLE after about 300 ms each.
	e.put("keyspaces/commerce", `{"lag":{"degraded":"5s","max":"30s","min_serving":1},"buffer_window":"300ms"}`)
	for _, alias := range []string{"zone1-0000000101", "zone1-0000000102", "zone2-0000000201", "zone3-0000000301"} {
		e.update(alias, map[string]any{"state": "NOT_SERVING"})
	}
	eventuallyOnly(t, c, one(xdstest.Unavailable), replicaMinus80...)
	waitConverged(t, e, inR1A)
	noTabletServes(20, replicaMinus80...)
	noTabletServes(5, "x-shard", "-80")
	noTabletServes(5, "x-tablet-type", "read-after-write", "x-shard", "-80")
	eventuallyOnly(t, c, one("zone2-0000000211"), "x-shard", "80-") // the other shard is unaffected
}

// eventuallyOnly waits until every one of 20 calls goes to one of want.
func eventuallyOnly(t *testing.T, c counter, want []string, headers ...string) {
	t.Helper()
	xdstest.Eventually(t, 15*time.Second, func() (bool, string) {
		got := c.Count(20, headers...)
		return got.Only(want...), fmt.Sprintf("headers %q: calls went to %v, want all to %v", headers, got, want)
	})
}

// waitConverged waits until the server has applied every etcd write made
// so far and every stream of node n has ACKed its group's current route
// configurations and assignments.
func waitConverged(t *testing.T, e *env, n xdstest.Node) {
	t.Helper()
	waitRevision(t, e)
	xdstest.Eventually(t, 15*time.Second, func() (bool, string) {
		streams := 0
		for _, s := range e.app.Server.Nodes() {
			if s.NodeID != n.ID {
				continue
			}
			streams++
			snap, ok := e.app.Cache.Snapshot(s.Group)
			if !ok {
				return false, fmt.Sprintf("group %s: no snapshot", s.Group)
			}
			for _, typ := range []string{resourcev3.RouteType, resourcev3.EndpointType} {
				if want := snap.GetVersion(typ); s.Acked[typ] != want {
					return false, fmt.Sprintf("stream %d of %s ACKed %s version %q, current %q", s.StreamID, n.ID, typ, s.Acked[typ], want)
				}
			}
		}
		return streams > 0, fmt.Sprintf("no stream of node %s", n.ID)
	})
}

// oneSample waits until the client's node has ACKed the current topology,
// then takes one sample of splitCalls calls and checks it against Envoy's
// formula within splitTolerance points for every tablet: one fixed sample,
// not the best of several.
func oneSample(t *testing.T, e *env, c counter, n xdstest.Node, keyspace, shard string, class weights.Class, headers ...string) xdstest.Counts {
	t.Helper()
	waitConverged(t, e, n)
	want := envoySplit(t, e, n, keyspace, shard, class)
	got := c.Count(splitCalls, headers...)
	checkSplit(t, got, want)
	return got
}

// servedSplit is the traffic split a gRPC node group in the client's
// locality is served: its priority-0 locality weights, one tablet each.
func servedSplit(t *testing.T, e *env, n xdstest.Node, keyspace, shard string, class weights.Class) map[string]float64 {
	t.Helper()
	topo := e.app.Cache.Topology()
	s := topo.Shards[topology.ShardKey{Keyspace: keyspace, Shard: shard}]
	if s == nil {
		t.Fatalf("no shard %s/%s at revision %d", keyspace, shard, topo.Revision)
	}
	a := weights.Assign(weights.Request{Inputs: weights.Resolve(topo, s, time.Now()), Class: class, Kind: weights.KindGRPC,
		Client: weights.Locality{Region: n.Region, Zone: n.Zone}})
	out, total := map[string]float64{}, 0.0
	for _, l := range a.Localities {
		if l.Priority == 0 {
			out[l.Endpoints[0].Alias] = float64(l.Weight)
			total += float64(l.Weight)
		}
	}
	for a := range out {
		out[a] /= total
	}
	return out
}

// checkSplit checks a sample against a split within splitTolerance points
// for every tablet.
func checkSplit(t *testing.T, got xdstest.Counts, want map[string]float64) {
	t.Helper()
	aliases := map[string]bool{}
	for a := range want {
		aliases[a] = true
	}
	for a := range got {
		aliases[a] = true
	}
	for a := range aliases {
		if measured := 100 * float64(got[a]) / float64(got.Total()); math.Abs(measured-100*want[a]) > splitTolerance {
			t.Errorf("%s: measured %.1f%%, want %.1f%% (calls %v, split %v)", a, measured, 100*want[a], got, want)
		}
	}
}
