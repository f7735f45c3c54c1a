package tabletagent

import (
	"fmt"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

// TestLagFallsBackToSecondsBehindMaster: with no heartbeat row (no agent on
// the primary yet) a replica's lag comes from Seconds_Behind_Master, and
// it serves; once the primary's agent writes heartbeats, the lag is the
// heartbeat's, sub-second.
func TestLagFallsBackToSecondsBehindMaster(t *testing.T) {
	f := newFixture(t, false)
	f.startAgent(f.replicas[0], asyncAlias)
	r := f.waitRecord(asyncAlias, 10*time.Second, "serving on Seconds_Behind_Master", serving)
	if r.ReplicationLag != 0 || r.Replication != topology.ReplicationAsync {
		t.Errorf("lag %v, replication %q; want 0 (Seconds_Behind_Master of an idle replica), async", r.ReplicationLag, r.Replication)
	}
	var ts int64
	if err := f.replicas[0].QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '_shardmesh'", &ts); err != nil || ts != 0 {
		t.Fatalf("heartbeat table on the replica before any primary agent: %d tables, %v", ts, err)
	}

	f.startAgent(f.primary, primaryAlias)
	f.waitRecord(primaryAlias, 10*time.Second, "a serving primary", serving)
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		var n int
		err := f.replicas[0].QueryRow("SELECT COUNT(*) FROM _shardmesh.heartbeat", &n)
		return err == nil && n == 1, fmt.Sprintf("heartbeat row not on the replica: %d rows, %v", n, err)
	})
	// Stopping the SQL thread: Seconds_Behind_Master goes NULL, the
	// heartbeat lag keeps growing.
	f.replicas[0].Exec("STOP SLAVE SQL_THREAD")
	f.waitRecord(asyncAlias, 10*time.Second, "heartbeat lag growing past 1s", func(r *topology.Tablet) bool {
		return r.ReplicationLag > time.Second && r.State == topology.StateNotServing
	})
}
