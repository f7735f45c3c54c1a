package e2e

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shardmesh/shardmesh/internal/xdstest"
)

var replicaMinus80 = []string{"x-tablet-type", "replica", "x-shard", "-80"}

func TestSchemaVersionGatesTraffic(t *testing.T) {
	e := newEnv(t)
	for _, f := range fleet {
		e.update(f.alias, map[string]any{"schema_version": "v1"})
	}
	e.put("keyspaces/commerce", `{"schema_versions":["v1"],"buffer_window":"300ms"}`)
	c := e.dial(inR1A, "commerce")
	routesTo(t, c, "zone1-0000000102", replicaMinus80...)

	e.update("zone1-0000000102", map[string]any{"schema_version": "v2"}) // online DDL reached it first
	routesTo(t, c, "zone2-0000000201", replicaMinus80...)

	e.put("keyspaces/commerce", `{"schema_versions":["v1","v2"],"buffer_window":"300ms"}`)
	routesTo(t, c, "zone1-0000000102", replicaMinus80...)

	e.put("keyspaces/commerce", `{"schema_versions":["v2"],"buffer_window":"300ms"}`)
	routesTo(t, c, "zone1-0000000102", replicaMinus80...)
	routesTo(t, c, xdstest.Unavailable, "x-shard", "80-") // no v2 primary there: a controlled error
}

func TestLagExcludesReplicasButKeepsMinServing(t *testing.T) {
	e := newEnv(t)
	e.put("keyspaces/commerce", `{"lag":{"degraded":"5s","max":"30s","min_serving":1}}`)
	c := e.dial(inR1A, "commerce")
	routesTo(t, c, "zone1-0000000102", replicaMinus80...)

	e.update("zone1-0000000102", map[string]any{"replication_lag_seconds": 45})
	routesTo(t, c, "zone2-0000000201", replicaMinus80...)

	// Every replica is over lag.max: the least lagged one keeps serving.
	e.update("zone2-0000000201", map[string]any{"replication_lag_seconds": 90})
	e.update("zone3-0000000301", map[string]any{"replication_lag_seconds": 120})
	routesTo(t, c, "zone1-0000000102", replicaMinus80...)
}

func TestReadAfterWriteNeverReachesAsyncReplica(t *testing.T) {
	e := newEnv(t)
	e.put("keyspaces/commerce", `{"read_after_write_max_lag":"1s","buffer_window":"300ms"}`)
	e.update("zone2-0000000201", map[string]any{"replication": "async"})
	e.update("zone3-0000000301", map[string]any{"replication_lag_seconds": 5})
	raw := []string{"x-tablet-type", "read-after-write", "x-shard", "-80"}
	c := e.dial(inR1B, "commerce") // its own zone's replica is the async one
	routesTo(t, c, "zone1-0000000101", raw...)

	e.update("zone1-0000000101", map[string]any{"state": "NOT_SERVING"})
	routesTo(t, c, "zone1-0000000102", raw...) // semi-sync and caught up, though in another zone

	e.update("zone1-0000000102", map[string]any{"replication_lag_seconds": 2})
	routesTo(t, c, xdstest.Unavailable, raw...)
}

func TestCrossRegionFalseKeepsReadsInRegion(t *testing.T) {
	e := newEnv(t)
	e.put("keyspaces/commerce", `{"failover":{"cross_region":false}}`)
	c := e.dial(inR1A, "commerce")
	routesTo(t, c, "zone1-0000000102", replicaMinus80...)
	e.update("zone1-0000000102", map[string]any{"state": "NOT_SERVING"})
	e.update("zone2-0000000201", map[string]any{"state": "NOT_SERVING"})
	routesTo(t, c, xdstest.Unavailable, replicaMinus80...)

	e.put("keyspaces/commerce", `{"failover":{"cross_region":true}}`)
	routesTo(t, c, "zone3-0000000301", replicaMinus80...)
}

func TestTenantSeesOnlyItsKeyspaces(t *testing.T) {
	e := newEnv(t)
	e.put("keyspaces/customer", `{"tenant":"acme"}`)
	waitRevision(t, e) // before that, customer is shared and globex may see it
	acme := inR1A
	acme.ID, acme.Tenant = "acme-app", "acme"
	globex := inR1A
	globex.ID, globex.Tenant = "globex-app", "globex"

	routesTo(t, e.dial(acme, "customer"), "zone1-0000000121")
	servedBefore := e.backends["zone1-0000000121"].Calls()
	other := e.dial(globex, "customer")
	for range 3 {
		// grpc-go waits for a listener it was never sent (its
		// does-not-exist timer), so the call fails by its deadline.
		alias, err := other.Call(context.Background())
		if err == nil {
			t.Fatalf("tenant globex reached acme's keyspace, tablet %s", alias)
		}
		if c := status.Code(err); c != codes.Unavailable && c != codes.DeadlineExceeded {
			t.Fatalf("tenant globex calling acme's keyspace: err = %v, want UNAVAILABLE or DEADLINE_EXCEEDED", err)
		}
	}
	if n := e.backends["zone1-0000000121"].Calls(); n != servedBefore {
		t.Errorf("acme's tablet served %d calls from tenant globex", n-servedBefore)
	}
	assertNoResourcesOf(t, e, "globex", "customer")
	// Shared keyspaces stay visible to every tenant.
	routesTo(t, e.dial(globex, "commerce"), "zone1-0000000101", "x-shard", "-80")
}

// TestWritesRideThroughReparent keeps writes in flight while the primary
// goes away and a new one appears: every call must succeed.
func TestWritesRideThroughReparent(t *testing.T) {
	e := newEnv(t)
	e.put("keyspaces/commerce", `{"buffer_window":"4s"}`)
	c := e.dial(inR1A, "commerce")
	routesTo(t, c, "zone1-0000000101", "x-shard", "-80")

	var (
		mu       sync.Mutex
		served   = xdstest.Counts{}
		failures []error
		inGap    atomic.Int32 // calls started while no primary was serving
		gap      atomic.Bool
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if gap.Load() {
					inGap.Add(1)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				alias, err := c.Call(ctx, "x-shard", "-80")
				cancel()
				mu.Lock()
				if err != nil {
					failures = append(failures, err)
				} else {
					served[alias]++
				}
				mu.Unlock()
			}
		}()
	}
	// Emergency reparent: the old primary stops serving, and only once the
	// server has pushed that and calls are waiting does the new one appear.
	gap.Store(true)
	e.update("zone1-0000000101", map[string]any{"state": "NOT_SERVING"})
	waitRevision(t, e)
	xdstest.Eventually(t, 5*time.Second, func() (bool, string) {
		return inGap.Load() >= 4, "no calls started while the shard had no primary"
	})
	e.update("zone2-0000000201", map[string]any{"type": "primary", "primary_term_start": "2026-11-24T09:00:00Z"})
	gap.Store(false)
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return served["zone2-0000000201"] >= 20, "new primary not serving yet: " + served.String()
	})
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d calls failed across the reparent, first: %v (served %v)", len(failures), failures[0], served)
	}
	if served["zone1-0000000101"] == 0 || served["zone2-0000000201"] == 0 {
		t.Errorf("served %v: want calls on both the old and the new primary", served)
	}
}

// assertNoResourcesOf checks that no snapshot of the tenant's groups holds
// any resource of the keyspace.
func assertNoResourcesOf(t *testing.T, e *env, tenant, keyspace string) {
	t.Helper()
	found := false
	for _, g := range e.app.Cache.Groups() {
		if g.Tenant != tenant {
			continue
		}
		found = true
		snap, ok := e.app.Cache.Snapshot(g.ID())
		if !ok {
			t.Fatalf("group %s: no snapshot", g.ID())
		}
		for _, typ := range []string{resourcev3.ListenerType, resourcev3.RouteType, resourcev3.ClusterType, resourcev3.EndpointType} {
			for name := range snap.GetResources(typ) {
				if name == keyspace || strings.HasPrefix(name, keyspace+"/") {
					t.Errorf("group %s holds %s %s of another tenant's keyspace", g.ID(), typ, name)
				}
			}
		}
	}
	if !found {
		t.Errorf("no node group of tenant %s", tenant)
	}
}
