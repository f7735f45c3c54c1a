package agente2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

// TestStoppedSQLThreadLeavesAndRamps: a replica whose SQL thread stops
// reports its growing lag (past lag.max) and NOT_SERVING; reads leave it.
// After START SLAVE it serves again with a new serving_since and its share
// of reads ramps up instead of jumping back to half.
func TestStoppedSQLThreadLeavesAndRamps(t *testing.T) {
	e := newEnv(t, "")
	c := e.dial()
	xdstest.Eventually(t, 15*time.Second, func() (bool, string) {
		got := c.Count(40, replicaReads...)
		return got[replica1] > 0 && got[replica2] > 0 && got.Only(replica1, replica2),
			fmt.Sprintf("replica reads went to %v, want both replicas", got)
	})
	if got := c.Count(20, writes...); !got.Only(primary) {
		t.Fatalf("writes went to %v, want all to the primary %s", got, primary)
	}

	e.dbs[replica1].Exec("STOP SLAVE SQL_THREAD")
	stopped := e.waitRecord(replica1, "lag past lag.max (2s), not serving", func(r *topology.Tablet) bool {
		return r.ReplicationLag > 2*time.Second && r.State == topology.StateNotServing
	})
	if !strings.Contains(stopped.HealthError, "SQL thread not running") {
		t.Errorf("health_error %q, want it to say the SQL thread stopped", stopped.HealthError)
	}
	if got := c.Count(40, replicaReads...); !got.Only(replica2) {
		t.Errorf("with %s's SQL thread stopped, reads went to %v, want all to %s", replica1, got, replica2)
	}

	restart := time.Now()
	e.dbs[replica1].Exec("START SLAVE SQL_THREAD")
	back := e.waitRecord(replica1, "serving again", func(r *topology.Tablet) bool {
		return r.State == topology.StateServing && r.ReplicationLag < time.Second
	})
	if back.ServingSince.Before(restart.Add(-time.Second)) {
		t.Errorf("serving_since %v is not a new SERVING period (restart at %v)", back.ServingSince, restart)
	}
	// The first reads it gets are a ramp's share, then it gets its half.
	var first xdstest.Counts
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		first = c.Count(40, replicaReads...)
		return first[replica1] > 0, fmt.Sprintf("reads went to %v, want some back on %s", first, replica1)
	})
	if s := share(first, replica1); s > 0.4 {
		t.Errorf("first reads after the restart: %v (%s has %.0f%%), want a ramp's share, well under half", first, replica1, 100*s)
	}
	xdstest.Eventually(t, 15*time.Second, func() (bool, string) {
		got := c.Count(60, replicaReads...)
		return share(got, replica1) > 0.3 && share(got, replica2) > 0.3, fmt.Sprintf("reads %v, want both replicas near half after the ramp", got)
	})
	t.Logf("first reads after the SQL thread restart: %v", first)
}

// TestKilledMySQLLeavesWithinTwoIntervals: a replica whose mysqld dies is
// out of routing within two probe intervals, and back once mysqld runs and
// replicates again.
func TestKilledMySQLLeavesWithinTwoIntervals(t *testing.T) {
	e := newEnv(t, "")
	c := e.dial()
	xdstest.Eventually(t, 15*time.Second, func() (bool, string) {
		got := c.Count(40, replicaReads...)
		return got[replica1] > 0 && got[replica2] > 0, fmt.Sprintf("replica reads went to %v, want both replicas", got)
	})

	killed := time.Now()
	e.dbs[replica2].Kill()
	var leftAfter time.Duration
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := c.Count(20, replicaReads...)
		leftAfter = time.Since(killed)
		return got.Only(replica1), fmt.Sprintf("reads went to %v, want all to %s", got, replica1)
	})
	r := e.record(replica2)
	if r == nil || r.State != topology.StateNotServing || !strings.HasPrefix(r.HealthError, "mysql: ") {
		t.Errorf("record of the dead instance: %+v, want NOT_SERVING with a mysql: health error", r)
	}
	t.Logf("mysqld killed: reads left %s after %v (probe interval %v)", replica2, leftAfter, interval)
	if leftAfter > 2*interval {
		t.Errorf("reads left %s %v after its mysqld died, want within two intervals (%v)", replica2, leftAfter, 2*interval)
	}

	// Restarted, it replicates again by itself.
	e.dbs[replica2].Restart()
	xdstest.Eventually(t, 20*time.Second, func() (bool, string) {
		got := c.Count(40, replicaReads...)
		return got[replica2] > 0, fmt.Sprintf("reads went to %v, want some back on %s", got, replica2)
	})
}
