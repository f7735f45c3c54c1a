package weights_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// randomShard returns the records of a random small shard ks/-80 and its
// keyspace policy. Every tablet has a grpc port (see
// TestUnaddressableNewerPrimaryStillFences for why that matters).
func randomShard(rng *rand.Rand) []rec {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	degraded := rng.IntN(3) * 5
	p := fmt.Sprintf(`{"schema_versions":%s,"lag":{"degraded":"%ds","max":"%ds","min_serving":%d},`+
		`"read_after_write_max_lag":"%s","failover":{"cross_region":%v%s}}`,
		pick(`[]`, `["v1"]`, `["v1","v2"]`), degraded, degraded+rng.IntN(3)*10, rng.IntN(4),
		pick("0s", "1s", "5s"), rng.IntN(3) > 0, pick("", `,"region_order":{"r1":["r3","r2"],"r2":["r1"]}`))
	recs := append(cells(), policy(p))
	for uid := range rng.IntN(11) {
		extra := []string{
			`"state":"` + pick("SERVING", "SERVING", "SERVING", "NOT_SERVING", "DRAINING") + `"`,
			`"replication":"` + pick("semi-sync", "async", "") + `"`,
			`"schema_version":"` + pick("v1", "v1", "v2", "v3", "") + `"`,
			fmt.Sprintf(`"weight":%d`, pick1(rng, 100, 1+rng.IntN(10000))),
			lag(float64(rng.IntN(120)) / 2),
			term(rng.IntN(24)),
		}
		if rng.IntN(10) == 0 {
			extra = append(extra, `"health_error":"boom"`)
		}
		typ := pick("replica", "replica", "replica", "rdonly", "rdonly", "primary", "primary", "spare", "backup", "drained")
		recs = append(recs, tablet(alias(pick("zone1", "zone2", "zone3", "zone4", "zone9"), uid), typ, extra...))
	}
	return recs
}

func pick1(rng *rand.Rand, a, b int) int {
	if rng.IntN(2) == 0 {
		return a
	}
	return b
}

var randomClients = []weights.Locality{
	noClient, clientR1A, {Region: "r1", Zone: "r1b"}, clientR2A, {Region: "r3", Zone: "r3a"},
	{Region: "r1", Zone: "r1c"}, {Region: "r7", Zone: "r7a"},
}

// TestInvariantsOnRandomTopologies checks the rules every assignment obeys,
// over random small shards, every class, client kind and client locality.
func TestInvariantsOnRandomTopologies(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261121, 1))
	// seen counts the situations the generator reached, so that a change
	// to it cannot quietly stop exercising them.
	seen := map[string]int{}
	for i := range 400 {
		recs := randomShard(rng)
		topo := build(t, recs...)
		if _, ok := topo.Shards[topology.ShardKey{Keyspace: testKeyspace, Shard: testShard}]; !ok {
			continue // no tablet at all
		}
		for _, class := range weights.Classes {
			for _, kind := range []weights.ClientKind{weights.KindEnvoy, weights.KindGRPC} {
				for _, client := range randomClients {
					a := assign(t, topo, class, client, kind)
					tally(seen, topo, a)
					envoy := assign(t, topo, class, client, weights.KindEnvoy)
					for _, err := range invariants(topo, class, client, kind, a, envoy) {
						t.Errorf("topology %d, %s, %s, client %v: %s\nassignment: %q\nrecords: %v", i, class, kind, client, err, render(a), recs)
					}
					if again := assign(t, topo, class, client, kind); !reflect.DeepEqual(a, again) {
						t.Errorf("topology %d, %s, %s, client %v: two runs differ:\n%q\n%q", i, class, kind, client, render(a), render(again))
					}
				}
			}
		}
		if t.Failed() {
			return
		}
	}
	for _, what := range []string{"several priorities", "degraded", "draining", "fenced primary", "kept over lag.max", "unknown cell", "empty"} {
		if seen[what] == 0 {
			t.Errorf("no random assignment had %s", what)
		}
	}
}

// tally counts the situations an assignment shows.
func tally(seen map[string]int, topo *topology.Topology, a weights.Assignment) {
	ks := topo.Keyspaces[testKeyspace]
	if len(a.Localities) == 0 {
		seen["empty"]++
	} else if a.Localities[len(a.Localities)-1].Priority > 0 {
		seen["several priorities"]++
	}
	for _, l := range a.Localities {
		if _, known := topo.Cells[l.Cell]; !known {
			seen["unknown cell"]++
		}
		for _, e := range l.Endpoints {
			tb := tabletOf(topo, e.Alias)
			usable := e.Health == weights.Healthy || e.Health == weights.Degraded
			switch {
			case e.Health == weights.Degraded:
				seen["degraded"]++
			case e.Health == weights.Draining:
				seen["draining"]++
			case tb.Type == topology.TypePrimary && !usable && tb.State == topology.StateServing && tb.HealthError == "" && weights.SchemaOK(ks, tb):
				seen["fenced primary"]++
			}
			if usable && tb.Type != topology.TypePrimary && tb.ReplicationLag > ks.Lag.Max {
				seen["kept over lag.max"]++
			}
		}
	}
}

func tabletOf(topo *topology.Topology, alias string) *topology.Tablet {
	for _, tb := range topo.Shards[topology.ShardKey{Keyspace: testKeyspace, Shard: testShard}].Tablets {
		if tb.Alias == alias {
			return tb
		}
	}
	return nil
}

// invariants returns the rules an assignment breaks.
//
// A gRPC assignment is derived from the Envoy one for the same client
// (envoy): it must hold exactly the tablets usable there, one per locality,
// with priority 0's weights summing to the whole.
func invariants(topo *topology.Topology, class weights.Class, client weights.Locality, kind weights.ClientKind, a, envoy weights.Assignment) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	ks := topo.Keyspaces[testKeyspace]
	shard := topo.Shards[topology.ShardKey{Keyspace: testKeyspace, Shard: testShard}]
	byAlias := map[string]*topology.Tablet{}
	for _, tb := range shard.Tablets {
		byAlias[tb.Alias] = tb
	}

	var priorities []uint32
	seen := map[string]bool{}
	for _, l := range a.Localities {
		priorities = append(priorities, l.Priority)
		if l.Weight < 1 {
			fail("locality %s at P%d has weight 0", l.Cell, l.Priority)
		}
		var all, usable uint32
		for _, e := range l.Endpoints {
			all += e.Weight
			if e.Health == weights.Healthy || e.Health == weights.Degraded {
				usable += e.Weight
			}
			if e.Weight < 1 {
				fail("endpoint %s has weight 0", e.Alias)
			}
			if seen[e.Alias] {
				fail("endpoint %s appears twice", e.Alias)
			}
			seen[e.Alias] = true
			tb := byAlias[e.Alias]
			if tb == nil {
				fail("endpoint %s is not a tablet of the shard", e.Alias)
				continue
			}
			if !typeAllowed(class, tb) {
				fail("endpoint %s of type %s (replication %q) in class %s", e.Alias, tb.Type, tb.Replication, class)
			}
			if kind == weights.KindEnvoy && tb.Cell != l.Cell {
				fail("endpoint %s of cell %s in locality %s", e.Alias, tb.Cell, l.Cell)
			}
			if kind == weights.KindGRPC && (len(l.Endpoints) != 1 || l.Cell != e.Alias) {
				fail("gRPC locality %s holds %d endpoints, want only its own tablet", l.Cell, len(l.Endpoints))
			}
			if msg := healthError(topo, ks, shard, class, kind, tb, e); msg != "" {
				fail("endpoint %s: %s", e.Alias, msg)
			}
		}
		if kind == weights.KindEnvoy && l.Weight != max(1, all) {
			fail("locality %s at P%d: weight %d, want %d", l.Cell, l.Priority, l.Weight, max(1, all))
		}
	}
	if !slices.IsSorted(priorities) {
		fail("localities not ordered by priority: %v", priorities)
	}
	for i, p := range slices.Compact(priorities) {
		if p != uint32(i) {
			fail("priorities %v are not contiguous from 0", slices.Compact(slices.Clone(priorities)))
			break
		}
	}
	if n := len(slices.Compact(slices.Clone(priorities))); client == noClient && n > 1 && class != weights.ClassReadAfterWrite {
		fail("a client with no locality got %d priorities", n)
	}
	if kind == weights.KindGRPC {
		return append(errs, grpcInvariants(a, envoy)...)
	}
	// Every addressable tablet of the class is kept, unless cross_region
	// forbids its cell to this client.
	for _, tb := range shard.Tablets {
		if _, ok := tb.PortMap[ks.PortName]; !ok || !typeAllowed(class, tb) || seen[tb.Alias] {
			continue
		}
		cell, known := topo.CellOf(tb.Cell)
		omittable := !ks.Failover.CrossRegion && client != noClient && (!known || cell.Region != client.Region) && tb.Type != topology.TypePrimary
		if !omittable {
			fail("tablet %s (%s in %s) is missing", tb.Alias, tb.Type, tb.Cell)
		}
	}
	return errs
}

// grpcInvariants checks a gRPC assignment against the Envoy one it derives
// from: the same usable tablets, and shares of priority 0 that add up.
func grpcInvariants(a, envoy weights.Assignment) []string {
	var errs []string
	usable := map[string]bool{}
	for _, l := range envoy.Localities {
		for _, e := range l.Endpoints {
			if e.Health == weights.Healthy || e.Health == weights.Degraded {
				usable[e.Alias] = true
			}
		}
	}
	got := map[string]bool{}
	var p0 uint64
	n0 := 0
	for _, l := range a.Localities {
		for _, e := range l.Endpoints {
			got[e.Alias] = true
			if !usable[e.Alias] {
				errs = append(errs, fmt.Sprintf("gRPC gets %s, which is not usable for Envoy", e.Alias))
			}
		}
		if l.Priority == 0 {
			p0 += uint64(l.Weight)
			n0++
		}
	}
	for alias := range usable {
		if !got[alias] {
			errs = append(errs, fmt.Sprintf("usable tablet %s is missing for gRPC", alias))
		}
	}
	// Shares are rounded to millionths, each at least 1.
	if n0 > 0 && (p0+uint64(n0) < 1e6 || p0 > 1e6+uint64(n0)) {
		errs = append(errs, fmt.Sprintf("priority 0 weights sum to %d, want 1e6", p0))
	}
	return errs
}

func typeAllowed(class weights.Class, tb *topology.Tablet) bool {
	switch class {
	case weights.ClassPrimary:
		return tb.Type == topology.TypePrimary
	case weights.ClassReadAfterWrite:
		return tb.Type == topology.TypePrimary || tb.Type == topology.TypeReplica && tb.Replication == topology.ReplicationSemiSync
	case weights.ClassReplica:
		return tb.Type == topology.TypeReplica
	default:
		return tb.Type == topology.TypeRdonly
	}
}

// healthError checks an endpoint's health against its tablet: only an
// eligible tablet may be Healthy or Degraded; DRAINING maps to Draining.
func healthError(topo *topology.Topology, ks *topology.Keyspace, shard *topology.Shard, class weights.Class, kind weights.ClientKind, tb *topology.Tablet, e weights.Endpoint) string {
	if tb.State == topology.StateDraining && e.Health != weights.Draining {
		return fmt.Sprintf("DRAINING tablet advertised %s", e.Health)
	}
	if tb.State == topology.StateNotServing && e.Health != weights.Unhealthy {
		return fmt.Sprintf("NOT_SERVING tablet advertised %s", e.Health)
	}
	if kind == weights.KindGRPC && e.Health == weights.Degraded {
		return "DEGRADED sent to a gRPC client"
	}
	if e.Health != weights.Healthy && e.Health != weights.Degraded {
		return ""
	}
	servingOK := func(t *topology.Tablet) bool {
		return t.State == topology.StateServing && t.HealthError == "" && weights.SchemaOK(ks, t)
	}
	if !servingOK(tb) {
		return fmt.Sprintf("usable (%s) but state %s, health_error %q, schema %q", e.Health, tb.State, tb.HealthError, tb.SchemaVersion)
	}
	if tb.Type == topology.TypePrimary {
		for _, o := range shard.Tablets {
			if o.Type == topology.TypePrimary && o.PrimaryTermStart.After(tb.PrimaryTermStart) {
				return "usable primary with an older term than " + o.Alias
			}
		}
		return ""
	}
	if class == weights.ClassReadAfterWrite {
		if tb.ReplicationLag > ks.ReadAfterWriteMaxLag {
			return fmt.Sprintf("read-after-write replica lagging %v > %v", tb.ReplicationLag, ks.ReadAfterWriteMaxLag)
		}
		return ""
	}
	if tb.ReplicationLag > ks.Lag.Max {
		lessLagged := 0
		for _, o := range shard.Tablets {
			if o.Type == tb.Type && servingOK(o) && o.ReplicationLag < tb.ReplicationLag {
				lessLagged++
			}
		}
		if lessLagged >= ks.Lag.MinServing {
			return fmt.Sprintf("usable with lag %v > max %v and %d less-lagged tablets (min_serving %d)", tb.ReplicationLag, ks.Lag.Max, lessLagged, ks.Lag.MinServing)
		}
	}
	if kind == weights.KindEnvoy && (e.Health == weights.Degraded) != (tb.ReplicationLag > ks.Lag.Degraded) {
		return fmt.Sprintf("Envoy health %s with lag %v (degraded above %v)", e.Health, tb.ReplicationLag, ks.Lag.Degraded)
	}
	return ""
}

// TestDeterministic: the same records, put in any order, give identical
// assignments.
func TestDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 50 {
		recs := randomShard(rng)
		shuffled := slices.Clone(recs)
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		t1, t2 := build(t, recs...), build(t, shuffled...)
		if len(t1.Shards) == 0 {
			continue
		}
		for _, class := range weights.Classes {
			for _, kind := range []weights.ClientKind{weights.KindEnvoy, weights.KindGRPC} {
				for _, client := range randomClients {
					a, b := assign(t, t1, class, client, kind), assign(t, t2, class, client, kind)
					if !reflect.DeepEqual(a, b) {
						t.Fatalf("topology %d, %s, %s, client %v: put order changed the assignment:\n%s\n%s",
							i, class, kind, client, strings.Join(render(a), "\n"), strings.Join(render(b), "\n"))
					}
				}
			}
		}
	}
}
