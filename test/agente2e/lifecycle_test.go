package agente2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

// bothReplicas waits until replica reads reach both replicas.
func bothReplicas(t *testing.T, c *xdstest.Client) {
	t.Helper()
	xdstest.Eventually(t, 15*time.Second, func() (bool, string) {
		got := c.Count(40, replicaReads...)
		return got[replica1] > 0 && got[replica2] > 0, fmt.Sprintf("replica reads went to %v, want both replicas", got)
	})
}

// TestKilledAgentLeavesWhenLeaseExpires: an agent that dies (SIGKILL) takes
// its tablet out of routing when its etcd lease expires, not before.
func TestKilledAgentLeavesWhenLeaseExpires(t *testing.T) {
	e := newEnv(t, "")
	c := e.dial()
	bothReplicas(t, c)

	killed := time.Now()
	e.agents[replica1].signal(syscall.SIGKILL)
	e.agents[replica1].wait(t, 5*time.Second)
	var gone time.Duration
	xdstest.Eventually(t, 2*leaseTTL+5*time.Second, func() (bool, string) {
		gone = time.Since(killed)
		return e.record(replica1) == nil, "record still in etcd"
	})
	t.Logf("agent killed: record gone after %v (lease TTL %v)", gone, leaseTTL)
	if gone < leaseTTL/3 {
		t.Errorf("record gone %v after the kill, before the lease (%v) could expire", gone, leaseTTL)
	}
	xdstest.Eventually(t, 5*time.Second, func() (bool, string) {
		got := c.Count(20, replicaReads...)
		return got.Only(replica2), fmt.Sprintf("reads went to %v, want all to %s", got, replica2)
	})
}

// TestSIGTERMDrainsBeforeDelete: on SIGTERM the record goes DRAINING, reads
// leave the tablet while the record is still there, and then the record
// is deleted and the agent exits 0.
func TestSIGTERMDrainsBeforeDelete(t *testing.T) {
	e := newEnv(t, "")
	c := e.dial()
	bothReplicas(t, c)

	e.agents[replica1].signal(syscall.SIGTERM)
	e.waitRecord(replica1, "DRAINING", func(r *topology.Tablet) bool { return r.State == topology.StateDraining })
	xdstest.Eventually(t, 5*time.Second, func() (bool, string) {
		got := c.Count(20, replicaReads...)
		return got.Only(replica2), fmt.Sprintf("reads went to %v, want all to %s", got, replica2)
	})
	if r := e.record(replica1); r == nil || r.State != topology.StateDraining {
		t.Errorf("reads left %s but its record is %+v, want it still there DRAINING (the drain lasts %v)", replica1, r, drainPeriod)
	}
	if code := e.agents[replica1].wait(t, drainPeriod+10*time.Second); code != 0 {
		t.Errorf("agent exit code %d after SIGTERM, want 0", code)
	}
	if r := e.record(replica1); r != nil {
		t.Errorf("record still there after the drain: %+v", r)
	}
}

// TestManualPromotionMovesWrites: promoting a replica by hand (STOP SLAVE,
// RESET SLAVE ALL, read_only off) gives it a newer primary term and the
// writes; the old primary, still writable, fences itself; set read-only,
// it is a replica that does not serve.
func TestManualPromotionMovesWrites(t *testing.T) {
	e := newEnv(t, "")
	c := e.dial()
	xdstest.Eventually(t, 15*time.Second, func() (bool, string) {
		got := c.Count(20, writes...)
		return got.Only(primary), fmt.Sprintf("writes went to %v, want all to %s", got, primary)
	})
	old := e.record(primary)

	e.dbs[replica2].Exec("STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF")
	promoted := e.waitRecord(replica2, "a serving primary", func(r *topology.Tablet) bool {
		return r.Type == topology.TypePrimary && r.State == topology.StateServing
	})
	if !promoted.PrimaryTermStart.After(old.PrimaryTermStart) {
		t.Errorf("new term %v not after the old %v", promoted.PrimaryTermStart, old.PrimaryTermStart)
	}
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := c.Count(20, writes...)
		return got.Only(replica2), fmt.Sprintf("writes went to %v, want all to the new primary %s", got, replica2)
	})
	fenced := e.waitRecord(primary, "fenced (split brain)", func(r *topology.Tablet) bool {
		return r.State == topology.StateNotServing && strings.Contains(r.HealthError, "split brain")
	})
	if !strings.Contains(fenced.HealthError, replica2) {
		t.Errorf("health_error %q does not name the new primary %s", fenced.HealthError, replica2)
	}
	if log := e.agents[primary].logText(); !strings.Contains(log, "SPLIT BRAIN") {
		t.Errorf("the old primary's agent did not log the split brain loudly:\n%s", log)
	}

	e.dbs[primary].Exec("SET GLOBAL read_only = ON")
	e.waitRecord(primary, "a replica, not serving", func(r *topology.Tablet) bool {
		return r.Type == topology.TypeReplica && r.State == topology.StateNotServing
	})
	if got := c.Count(20, writes...); !got.Only(replica2) {
		t.Errorf("writes went to %v, want all to %s", got, replica2)
	}
}

// TestSchemaVersionGatesRouting: the keyspace's schema_versions admit
// tablets by the version the agent reads from MySQL; a bump that the
// keyspace does not admit yet takes every tablet out (a controlled
// UNAVAILABLE), admitting it brings them back.
func TestSchemaVersionGatesRouting(t *testing.T) {
	e := newEnv(t, `["v1"]`)
	c := e.dial()
	bothReplicas(t, c)

	e.dbs[primary].Exec("UPDATE _shardmesh.schema_version SET version = 'v2'")
	for _, alias := range []string{primary, replica1, replica2} {
		e.waitRecord(alias, "schema v2", func(r *topology.Tablet) bool { return r.SchemaVersion == "v2" })
	}
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := c.Count(10, replicaReads...)
		return got.Only(xdstest.Unavailable), fmt.Sprintf("reads went to %v, want UNAVAILABLE: no tablet has an admitted schema", got)
	})
	// Writes are buffered (buffer_window) while the shard has no primary,
	// then fail: none may reach a tablet.
	if got := c.Count(2, writes...); got[primary]+got[replica1]+got[replica2] > 0 {
		t.Errorf("writes went to %v, want none served by a tablet of an unadmitted schema", got)
	}

	e.setSchemaVersions(`["v1","v2"]`)
	bothReplicas(t, c)
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := c.Count(10, writes...)
		return got.Only(primary), fmt.Sprintf("writes went to %v, want all to %s", got, primary)
	})
}
