package e2e

// A second proxyless xDS client: grpc-js-xds, run as a Node process
// (test/node/client.js). The same control plane output must route it as it
// routes grpc-go, so these tests mirror the grpc-go ones.

import (
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// nodeDir is test/node, relative to this package's directory (go test's cwd).
const nodeDir = "../node"

// dialNode starts a grpc-js-xds client of xds:///<keyspace> with the node's
// identity; the process is killed when the test ends. Missing Node
// dependencies fail the test: they are part of the suite.
func (e *env) dialNode(n xdstest.Node, keyspace string) *procClient {
	e.t.Helper()
	if _, err := os.Stat(nodeDir + "/node_modules/@grpc/grpc-js-xds"); err != nil {
		e.t.Fatalf("grpc-js-xds is not installed (%v): run `npm ci --prefix test/node` (make test does)", err)
	}
	return e.dialProcess(n, keyspace, "grpc-js", "node", nodeDir+"/client.js", keyspace)
}

// nodeRoutesTo waits until every one of 20 calls goes to one of want.
func nodeRoutesTo(t *testing.T, c *procClient, want []string, headers ...string) {
	t.Helper()
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := c.Count(t, 20, headers...)
		return got.Only(want...), fmt.Sprintf("headers %q: calls went to %v, want all to %v", headers, got, want)
	})
}

func one(alias string) []string { return []string{alias} }

func TestNodeHeadersSelectShardAndTabletType(t *testing.T) {
	e := newEnv(t)
	c := e.dialNode(inR1A, "commerce")
	nodeRoutesTo(t, c, one("zone1-0000000101"), "x-shard", "-80")
	for name, tc := range headerCases {
		t.Run(name, func(t *testing.T) {
			if got := c.Count(t, 20, tc.headers...); !got.Only(tc.want) {
				t.Errorf("calls went to %v, want all to %s", got, tc.want)
			}
		})
	}
	t.Run("unsharded keyspace needs no shard header", func(t *testing.T) {
		u := e.dialNode(inR2A, "customer")
		nodeRoutesTo(t, u, one("zone1-0000000121"))
		nodeRoutesTo(t, u, one("zone3-0000000321"), "x-tablet-type", "replica")
	})
}

// TestNodeReplicaReadsFailOverZoneRegionAndBack mirrors
// TestReplicaReadsFailOverZoneRegionAndBack with grpc-js clients.
func TestNodeReplicaReadsFailOverZoneRegionAndBack(t *testing.T) {
	e := newEnv(t)
	a, b := e.dialNode(inR1A, "commerce"), e.dialNode(inR1B, "commerce")
	nodeRoutesTo(t, a, one("zone1-0000000102"), replicaMinus80...)
	nodeRoutesTo(t, b, one("zone2-0000000201"), replicaMinus80...)

	e.update("zone1-0000000102", map[string]any{"state": "NOT_SERVING"})
	nodeRoutesTo(t, a, one("zone2-0000000201"), replicaMinus80...) // same region, other zone
	nodeRoutesTo(t, b, one("zone2-0000000201"), replicaMinus80...) // unaffected

	e.update("zone2-0000000201", map[string]any{"state": "NOT_SERVING"})
	nodeRoutesTo(t, a, one("zone3-0000000301"), replicaMinus80...) // other region
	nodeRoutesTo(t, b, one("zone3-0000000301"), replicaMinus80...)

	e.update("zone1-0000000102", map[string]any{"state": "SERVING"})
	e.update("zone2-0000000201", map[string]any{"state": "SERVING"})
	nodeRoutesTo(t, a, one("zone1-0000000102"), replicaMinus80...)
	nodeRoutesTo(t, b, one("zone2-0000000201"), replicaMinus80...)
}

// TestNodeProportionalSpillMatchesEnvoy mirrors
// TestProportionalSpillMatchesEnvoy: with one of its zone's two replicas
// down, a grpc-js client keeps 70% of its reads in the zone.
func TestNodeProportionalSpillMatchesEnvoy(t *testing.T) {
	e := newEnv(t)
	c := e.dialNode(inR1A, "orders")
	replica := []string{"x-tablet-type", "replica"}
	local := []string{"zone1-0000000401", "zone1-0000000402"}
	nodeRoutesTo(t, c, local, replica...)
	got := matchesEnvoy(t, e, nodeCounter{t, c}, inR1A, "orders", "0", weights.ClassReplica, replica...)
	t.Logf("healthy zone: grpc-js measured %v", got)

	e.update("zone1-0000000402", map[string]any{"state": "NOT_SERVING"})
	waitRevision(t, e)
	want := envoySplit(t, e, inR1A, "orders", "0", weights.ClassReplica)
	if math.Abs(want["zone1-0000000401"]-0.7) > 1e-9 || math.Abs(want["zone2-0000000403"]-0.3) > 1e-9 {
		t.Fatalf("Envoy's formula gives %v, want 70%% zone1-0000000401 / 30%% zone2-0000000403", want)
	}
	got = matchesEnvoy(t, e, nodeCounter{t, c}, inR1A, "orders", "0", weights.ClassReplica, replica...)
	t.Logf("one of two local replicas down: grpc-js measured %v over %d calls, Envoy's formula %v", got, got.Total(), want)
}

// nodeCounter is a grpc-js client as a counter, for matchesEnvoy.
type nodeCounter struct {
	t *testing.T
	c *procClient
}

func (n nodeCounter) Count(calls int, headers ...string) xdstest.Counts {
	return n.c.Count(n.t, calls, headers...)
}

// TestNodeNoSafeTabletFailsTheCall: with no safe tablet for a request,
// grpc-js calls fail with UNAVAILABLE and no tablet serves them.
func TestNodeNoSafeTabletFailsTheCall(t *testing.T) {
	e := newEnv(t)
	c := e.dialNode(inR1A, "commerce")
	nodeRoutesTo(t, c, one("zone1-0000000101"), "x-shard", "-80")

	// noTabletServes makes n calls and checks they all fail with
	// UNAVAILABLE while no backend's call count moves.
	noTabletServes := func(t *testing.T, n int, headers ...string) {
		t.Helper()
		before := map[string]int{}
		for alias, b := range e.backends {
			before[alias] = b.Calls()
		}
		if got := c.Count(t, n, headers...); !got.Only(xdstest.Unavailable) {
			t.Errorf("headers %q: calls went to %v, want all to fail with %s", headers, got, xdstest.Unavailable)
		}
		for alias, b := range e.backends {
			if n := b.Calls() - before[alias]; n > 0 {
				t.Errorf("headers %q: tablet %s served %d calls", headers, alias, n)
			}
		}
	}
	t.Run("unknown shard", func(t *testing.T) {
		noTabletServes(t, 20, "x-shard", "c0-")
	})
	t.Run("no rdonly tablets", func(t *testing.T) {
		noTabletServes(t, 20, "x-tablet-type", "rdonly", "x-shard", "-80")
	})
	t.Run("every tablet of the shard NOT_SERVING", func(t *testing.T) {
		// Writes are retried on UNAVAILABLE for the keyspace's buffer
		// window (10 s by default, past the calls' 2 s deadline); a short
		// window makes them end with UNAVAILABLE, as reads do, after
		// about 300 ms each.
		e.put("keyspaces/commerce", `{"lag":{"degraded":"5s","max":"30s","min_serving":1},"buffer_window":"300ms"}`)
		for _, alias := range []string{"zone1-0000000101", "zone1-0000000102", "zone2-0000000201", "zone3-0000000301"} {
			e.update(alias, map[string]any{"state": "NOT_SERVING"})
		}
		waitRevision(t, e)
		nodeRoutesTo(t, c, one(xdstest.Unavailable), replicaMinus80...)
		xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
			got := c.Count(t, 3, "x-shard", "-80")
			return got.Only(xdstest.Unavailable), fmt.Sprintf("writes went to %v, want all to fail with %s", got, xdstest.Unavailable)
		})
		noTabletServes(t, 20, replicaMinus80...)
		noTabletServes(t, 5, "x-shard", "-80")
		noTabletServes(t, 5, "x-tablet-type", "read-after-write", "x-shard", "-80")
		// The other shard is unaffected.
		nodeRoutesTo(t, c, one("zone2-0000000211"), "x-shard", "80-")
	})
}
