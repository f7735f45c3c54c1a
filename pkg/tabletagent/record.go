package tabletagent

import (
	"fmt"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// Lag changes smaller than both of these are not written to etcd, so that a
// replica's lag jitter (heartbeat sawtooth) costs no write per probe, while
// a growing lag is written every 10% of its growth.
const (
	lagWriteMin      = 500 * time.Millisecond
	lagWritePerMille = 100
)

// memory is what the agent carries from one probe to the next.
type memory struct {
	last         *topology.Tablet // the record derived at the previous probe
	servingSince time.Time        // start of the current SERVING period
	sawReadOnly  bool             // this agent saw the instance read-only
	fence        *topology.Tablet // a primary of the shard with a newer term, or nil
}

// derive turns a probe into the tablet record; it is a pure function of
// the configuration, the probe, what the agent remembers and now.
//
// Only a writable instance with no replication source configured is a
// primary: a replica whose replication merely stopped is still a replica
// even when writable, so that a replica restarted without read_only never
// claims a newer term (and the writes).
func derive(c *Config, st Status, m *memory, now time.Time) *topology.Tablet {
	cell, _, _ := topology.ParseAlias(c.Alias)
	t := &topology.Tablet{Alias: c.Alias, Keyspace: c.Keyspace, Shard: c.Shard, Cell: cell, Hostname: c.Hostname,
		PortMap: c.PortMap, Weight: c.Weight, Tags: c.Tags, Type: c.ReplicaType, State: topology.StateServing}
	switch {
	case st.Err != nil:
		// Keep what was last known of the tablet: only its health changed.
		if m.last != nil {
			t.Type, t.PrimaryTermStart, t.SchemaVersion = m.last.Type, m.last.PrimaryTermStart, m.last.SchemaVersion
			t.Replication = m.last.Replication
		}
		t.State, t.HealthError = topology.StateNotServing, "mysql: "+st.Err.Error()
	case st.HasSource || !st.Writable:
		t.SchemaVersion = st.SchemaVersion
		t.Replication = topology.ReplicationAsync
		if st.SemiSync {
			t.Replication = topology.ReplicationSemiSync
		}
		t.ReplicationLag = st.Lag
		if err := replicaHealth(st); err != "" {
			t.State, t.HealthError = topology.StateNotServing, err
		}
	default:
		t.Type, t.SchemaVersion, t.PrimaryTermStart = topology.TypePrimary, st.SchemaVersion, st.TermStart
		if f := m.fence; f != nil {
			t.State = topology.StateNotServing
			t.HealthError = fmt.Sprintf("split brain: instance is writable but %s is primary of %s/%s since %s (newer term)",
				f.Alias, c.Keyspace, c.Shard, f.PrimaryTermStart.Format(time.RFC3339Nano))
		}
	}
	if t.State == topology.StateServing {
		if m.servingSince.IsZero() {
			m.servingSince = now.UTC()
		}
		t.ServingSince = m.servingSince
	} else {
		m.servingSince = time.Time{}
	}
	return t
}

// replicaHealth returns why a replica must not serve, or "".
func replicaHealth(st Status) string {
	switch {
	case !st.HasSource:
		return "read-only with no replication source"
	case st.Writable && !st.Replicating():
		// A replica restarted without read_only in its configuration, say:
		// it must not claim a new primary term and take the writes.
		return "writable but replication is stopped with a source configured (RESET SLAVE ALL to promote, START SLAVE to replicate)"
	case !st.IORunning:
		return "replication IO thread not running" + suffix(st.IOError)
	case !st.SQLRunning:
		return "replication SQL thread not running" + suffix(st.SQLError)
	case !st.LagKnown:
		return "replication lag unknown (no heartbeat row, Seconds_Behind_Master NULL)"
	}
	return ""
}

func suffix(err string) string {
	if err == "" {
		return ""
	}
	return ": " + err
}

// steadyLag keeps the written lag in next unless the lag moved by at least
// lagWriteMin and by lagWritePerMille of the written lag: with every other
// field unchanged, next then encodes exactly as the record in etcd and
// costs no write.
func steadyLag(written, next *topology.Tablet) {
	if written == nil {
		return
	}
	d := next.ReplicationLag - written.ReplicationLag
	if d < 0 {
		d = -d
	}
	if d < lagWriteMin || d < written.ReplicationLag*lagWritePerMille/1000 {
		next.ReplicationLag = written.ReplicationLag
	}
}
