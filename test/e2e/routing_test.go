package e2e

import (
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// headerCases: for a client in zone r1a of keyspace commerce, where calls
// with these headers go. The grpc-go and grpc-js tests share them.
var headerCases = map[string]struct {
	headers []string
	want    string
}{
	"x-shard 80- goes to its primary":         {[]string{"x-shard", "80-"}, "zone2-0000000211"},
	"x-tablet-type primary is the default":    {[]string{"x-tablet-type", "primary", "x-shard", "-80"}, "zone1-0000000101"},
	"x-keyspace-id below 0x80 picks -80":      {[]string{"x-keyspace-id", "7fffffffffffffff"}, "zone1-0000000101"},
	"x-keyspace-id at 0x80 picks 80-":         {[]string{"x-keyspace-id", "8000000000000000"}, "zone2-0000000211"},
	"replica read stays in the client's zone": {[]string{"x-tablet-type", "replica", "x-shard", "-80"}, "zone1-0000000102"},
	"replica read by keyspace id":             {[]string{"x-tablet-type", "replica", "x-keyspace-id", "c000000000000000"}, "zone1-0000000111"},
}

func TestHeadersSelectShardAndTabletType(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "commerce")
	routesTo(t, c, "zone1-0000000101", "x-shard", "-80")
	for name, tc := range headerCases {
		t.Run(name, func(t *testing.T) {
			if got := c.Count(20, tc.headers...); !got.Only(tc.want) {
				t.Errorf("calls went to %v, want all to %s", got, tc.want)
			}
		})
	}
	t.Run("unsharded keyspace needs no shard header", func(t *testing.T) {
		u := e.dial(inR2A, "customer")
		routesTo(t, u, "zone1-0000000121")
		routesTo(t, u, "zone3-0000000321", "x-tablet-type", "replica")
	})
}

// TestReplicaReadsFailOverZoneRegionAndBack takes the local replicas out
// one locality at a time and brings them back, with clients in two zones.
func TestReplicaReadsFailOverZoneRegionAndBack(t *testing.T) {
	e := newEnv(t)
	replica := []string{"x-tablet-type", "replica", "x-shard", "-80"}
	a, b := e.dial(inR1A, "commerce"), e.dial(inR1B, "commerce")
	routesTo(t, a, "zone1-0000000102", replica...)
	routesTo(t, b, "zone2-0000000201", replica...)

	start := time.Now()
	e.update("zone1-0000000102", map[string]any{"state": "NOT_SERVING"})
	routesTo(t, a, "zone2-0000000201", replica...) // same region, other zone
	t.Logf("etcd write -> client routed elsewhere (informal, includes polling): %v", time.Since(start))
	routesTo(t, b, "zone2-0000000201", replica...) // unaffected

	e.update("zone2-0000000201", map[string]any{"state": "NOT_SERVING"})
	routesTo(t, a, "zone3-0000000301", replica...) // other region
	routesTo(t, b, "zone3-0000000301", replica...)

	e.update("zone1-0000000102", map[string]any{"state": "SERVING"})
	e.update("zone2-0000000201", map[string]any{"state": "SERVING"})
	routesTo(t, a, "zone1-0000000102", replica...)
	routesTo(t, b, "zone2-0000000201", replica...)
}

// TestReparentMovesWritesAndFencesOldPrimary promotes a replica (newer
// term) while the old primary drains, then has the old primary claim
// SERVING again with its older term.
func TestReparentMovesWritesAndFencesOldPrimary(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "commerce")
	routesTo(t, c, "zone1-0000000101", "x-shard", "-80")

	e.update("zone1-0000000101", map[string]any{"state": "DRAINING"})
	e.update("zone2-0000000201", map[string]any{"type": "primary", "primary_term_start": "2026-11-24T09:00:00Z"})
	routesTo(t, c, "zone2-0000000201", "x-shard", "-80")

	e.update("zone1-0000000101", map[string]any{"state": "SERVING"})
	// Wait until the server has applied that write, then check the writes
	// still go to the new primary only.
	waitRevision(t, e)
	if got := c.Count(50, "x-shard", "-80"); !got.Only("zone2-0000000201") {
		t.Errorf("after the old primary claimed SERVING, writes went to %v, want all to zone2-0000000201", got)
	}
}

// TestMalformedRecordIsRejectedOthersKeepRouting writes an invalid record
// for the client's local replica.
func TestMalformedRecordIsRejectedOthersKeepRouting(t *testing.T) {
	e := newEnv(t)
	replica := []string{"x-tablet-type", "replica", "x-shard", "-80"}
	c := e.dial(inR1A, "commerce")
	routesTo(t, c, "zone1-0000000102", replica...)

	e.update("zone1-0000000102", map[string]any{"port_map": map[string]any{"grpc": 70000}})
	routesTo(t, c, "zone2-0000000201", replica...)
	var topo struct {
		Problems []struct{ Key, Error string }
	}
	e.admin("/debug/topology", &topo)
	want := "tablet zone1-0000000102: port_map.grpc: 70000 out of range"
	if len(topo.Problems) != 1 || topo.Problems[0].Key != "tablets/zone1-0000000102" || topo.Problems[0].Error != want {
		t.Errorf("problems = %+v, want one for tablets/zone1-0000000102: %q", topo.Problems, want)
	}
	routesTo(t, c, "zone1-0000000101", "x-shard", "-80")
	routesTo(t, c, "zone2-0000000211", "x-shard", "80-")
}

// waitRevision waits until the server's topology reflects every write made
// so far.
func waitRevision(t *testing.T, e *env) {
	t.Helper()
	resp, err := e.app.Client.Get(t.Context(), "/shardmesh/")
	if err != nil {
		t.Fatal(err)
	}
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		topo := e.app.Cache.Topology()
		return topo != nil && topo.Revision >= resp.Header.Revision, "topology revision behind etcd"
	})
}
