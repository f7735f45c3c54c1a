package e2e

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// splitTolerance is how far (in percentage points) the split measured with
// gRPC clients may be from Envoy's formula: 600 calls put one standard
// deviation of a 70/30 split at about 1.9 points.
const (
	splitTolerance = 10.0
	splitCalls     = 600
)

// envoySplit is the traffic split Envoy's documented priority-load formula
// gives for an Envoy sidecar in the client's locality, on the server's
// current topology.
func envoySplit(t *testing.T, e *env, n xdstest.Node, keyspace, shard string, class weights.Class) map[string]float64 {
	t.Helper()
	topo := e.app.Cache.Topology()
	s := topo.Shards[topology.ShardKey{Keyspace: keyspace, Shard: shard}]
	if s == nil {
		t.Fatalf("no shard %s/%s at revision %d", keyspace, shard, topo.Revision)
	}
	a := weights.Assign(weights.Request{Inputs: weights.Resolve(topo, s, time.Now()), Class: class, Kind: weights.KindEnvoy,
		Client: weights.Locality{Region: n.Region, Zone: n.Zone}})
	return weights.EnvoySplit(a)
}

// counter makes n calls with the given headers and counts which tablet
// served each: a grpc-go client (xdstest.Client) or a grpc-js one.
type counter interface {
	Count(n int, headers ...string) xdstest.Counts
}

// matchesEnvoy waits until the split measured with c agrees with Envoy's
// formula within splitTolerance for every tablet, and returns it.
func matchesEnvoy(t *testing.T, e *env, c counter, n xdstest.Node, keyspace, shard string, class weights.Class, headers ...string) xdstest.Counts {
	t.Helper()
	var got xdstest.Counts
	xdstest.Eventually(t, 15*time.Second, func() (bool, string) {
		want := envoySplit(t, e, n, keyspace, shard, class)
		got = c.Count(splitCalls, headers...)
		aliases := map[string]bool{}
		for a := range want {
			aliases[a] = true
		}
		for a := range got {
			aliases[a] = true
		}
		for a := range aliases {
			measured := 100 * float64(got[a]) / float64(got.Total())
			if math.Abs(measured-100*want[a]) > splitTolerance {
				return false, fmt.Sprintf("%s: measured %.1f%%, Envoy's formula %.1f%% (calls %v, formula %v)", a, measured, 100*want[a], got, want)
			}
		}
		return true, ""
	})
	return got
}

// TestProportionalSpillMatchesEnvoy: when one of the two replicas in the
// client's zone fails, the zone keeps 1.4 × 50% = 70% of the reads and the
// region takes the rest, for Envoy by its formula and for gRPC as measured.
func TestProportionalSpillMatchesEnvoy(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "orders")
	replica := []string{"x-tablet-type", "replica"}
	got := matchesEnvoy(t, e, c, inR1A, "orders", "0", weights.ClassReplica, replica...)
	if !got.Only("zone1-0000000401", "zone1-0000000402") {
		t.Fatalf("healthy zone: reads went to %v, want only zone1's replicas", got)
	}

	e.update("zone1-0000000402", map[string]any{"state": "NOT_SERVING"})
	waitRevision(t, e)
	want := envoySplit(t, e, inR1A, "orders", "0", weights.ClassReplica)
	if math.Abs(want["zone1-0000000401"]-0.7) > 1e-9 || math.Abs(want["zone2-0000000403"]-0.3) > 1e-9 {
		t.Fatalf("Envoy's formula gives %v, want 70%% zone1-0000000401 / 30%% zone2-0000000403", want)
	}
	got = matchesEnvoy(t, e, c, inR1A, "orders", "0", weights.ClassReplica, replica...)
	t.Logf("one of two local replicas down: gRPC measured %v over %d calls, Envoy's formula %v", got, got.Total(), want)
}

// TestCellDrainMovesReadsGradually drains the client's cell: half way
// through the drain's window the cell keeps half its weight next to the
// region's other zone; at the end its tablets are DRAINING and reads have
// left; undoing the drain brings them back.
func TestCellDrainMovesReadsGradually(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "orders")
	replica := []string{"x-tablet-type", "replica"}
	routesToAny := func(aliases ...string) {
		t.Helper()
		xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
			got := c.Count(50, replica...)
			return got.Only(aliases...), fmt.Sprintf("reads went to %v, want only %v", got, aliases)
		})
	}
	routesToAny("zone1-0000000401", "zone1-0000000402")

	drain := func(ago time.Duration) {
		e.put("overrides/drain/zone1", fmt.Sprintf(`{"started_at":%q,"window":"1h","reason":"test"}`,
			time.Now().Add(-ago).UTC().Format(time.RFC3339)))
		waitRevision(t, e)
	}
	drain(30 * time.Minute)
	want := envoySplit(t, e, inR1A, "orders", "0", weights.ClassReplica)
	if math.Abs(want["zone2-0000000403"]-0.5) > 0.001 {
		t.Fatalf("half way through the drain Envoy's formula gives %v, want half the reads on zone2-0000000403", want)
	}
	got := matchesEnvoy(t, e, c, inR1A, "orders", "0", weights.ClassReplica, replica...)
	t.Logf("drain half way: gRPC measured %v, Envoy's formula %v", got, want)

	drain(2 * time.Hour)
	routesToAny("zone2-0000000403")

	if _, err := e.app.Client.Delete(t.Context(), "/shardmesh/overrides/drain/zone1"); err != nil {
		t.Fatal(err)
	}
	routesToAny("zone1-0000000401", "zone1-0000000402")
}

// TestCellShiftMovesReadsInSteps shifts a quarter of the reads from the
// client's cell to another cell of its region, then all of them.
func TestCellShiftMovesReadsInSteps(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "orders")
	replica := []string{"x-tablet-type", "replica"}
	shift := func(ago time.Duration) {
		e.put("shifts/zone1-to-zone2", fmt.Sprintf(`{"keyspace":"orders","tablet_type":"replica","from_cell":"zone1","to_cell":"zone2",
			"steps":[25,100],"hold":"1h","started_at":%q}`, time.Now().Add(-ago).UTC().Format(time.RFC3339)))
		waitRevision(t, e)
	}
	shift(0)
	want := envoySplit(t, e, inR1A, "orders", "0", weights.ClassReplica)
	if math.Abs(want["zone2-0000000403"]-0.25) > 0.001 {
		t.Fatalf("at 25%% Envoy's formula gives %v, want a quarter on zone2-0000000403", want)
	}
	got := matchesEnvoy(t, e, c, inR1A, "orders", "0", weights.ClassReplica, replica...)
	t.Logf("cell shift at 25%%: gRPC measured %v, Envoy's formula %v", got, want)

	shift(2 * time.Hour)
	routesToAnyOf(t, c, []string{"zone2-0000000403"}, replica...)
}
