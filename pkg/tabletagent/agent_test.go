package tabletagent

import (
	"strings"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

const (
	primaryAlias = "zone1-0000000101"
	semiAlias    = "zone1-0000000102"
	asyncAlias   = "zone2-0000000201"
)

// TestRecordsFromMariaDB: the records of a primary, a semi-sync replica and
// an async replica, derived from real MariaDB replication.
func TestRecordsFromMariaDB(t *testing.T) {
	f := newFixture(t, true, false)
	f.primary.Exec("CREATE DATABASE IF NOT EXISTS _shardmesh",
		"CREATE TABLE _shardmesh.schema_version (version VARCHAR(64) NOT NULL)",
		"INSERT INTO _shardmesh.schema_version VALUES ('v1')")
	start := time.Now()
	f.startAgent(f.primary, primaryAlias)
	f.startAgent(f.replicas[0], semiAlias)
	f.startAgent(f.replicas[1], asyncAlias, func(c *Config) { c.ReplicaType = topology.TypeRdonly })

	p := f.waitRecord(primaryAlias, 10*time.Second, "a serving primary", func(t *topology.Tablet) bool {
		return serving(t) && t.Type == topology.TypePrimary
	})
	if p.PrimaryTermStart.Before(start.Add(-time.Second)) || p.ServingSince.IsZero() || p.SchemaVersion != "v1" || p.Replication != "" {
		t.Errorf("primary record %+v: want a term and serving_since from this run, schema v1, no replication mode", p)
	}
	semi := f.waitRecord(semiAlias, 10*time.Second, "a serving semi-sync replica", func(t *topology.Tablet) bool {
		return serving(t) && t.Replication == topology.ReplicationSemiSync && t.SchemaVersion == "v1"
	})
	async := f.waitRecord(asyncAlias, 10*time.Second, "a serving async replica", func(t *topology.Tablet) bool {
		return serving(t) && t.Replication == topology.ReplicationAsync && t.SchemaVersion == "v1"
	})
	if semi.Type != topology.TypeReplica || async.Type != topology.TypeRdonly {
		t.Errorf("types: %s and %s, want replica and rdonly (configured)", semi.Type, async.Type)
	}
	for _, r := range []*topology.Tablet{semi, async} {
		if r.ReplicationLag >= time.Second || r.SchemaVersion != "v1" || !r.PrimaryTermStart.IsZero() {
			t.Errorf("replica %s: lag %v, schema %q, term %v; want sub-second lag from the heartbeat, v1, no term",
				r.Alias, r.ReplicationLag, r.SchemaVersion, r.PrimaryTermStart)
		}
	}

	// A schema change reaches every record through replication.
	f.primary.Exec("UPDATE _shardmesh.schema_version SET version = 'v2'")
	for _, alias := range []string{primaryAlias, semiAlias, asyncAlias} {
		f.waitRecord(alias, 5*time.Second, "schema v2", func(t *topology.Tablet) bool { return t.SchemaVersion == "v2" })
	}
}

// TestWritesOnlyOnChange: a steady tablet costs no etcd write per probe,
// although its measured lag jitters from probe to probe. (A real lag spike
// on this shared machine is a change worth writing: a few writes are
// allowed, not one per probe.)
func TestWritesOnlyOnChange(t *testing.T) {
	f := newFixture(t, true)
	pa := f.startAgent(f.primary, primaryAlias)
	ra := f.startAgent(f.replicas[0], semiAlias)
	f.waitRecord(semiAlias, 10*time.Second, "serving", serving)
	f.waitRecord(primaryAlias, 10*time.Second, "serving", serving)
	// etcd counts the puts of a key in its version.
	before := map[string]int64{primaryAlias: f.version(primaryAlias), semiAlias: f.version(semiAlias)}
	const probes = 20
	pn, rn := pa.probes.Load()+probes, ra.probes.Load()+probes
	xdstest.Eventually(t, 30*time.Second, func() (bool, string) {
		return pa.probes.Load() >= pn && ra.probes.Load() >= rn, "agents not probing"
	})
	writes := map[string]int64{}
	for alias, v := range before {
		writes[alias] = f.version(alias) - v
		if writes[alias] > 2 {
			t.Errorf("%s written %d times in %d probes of a steady tablet", alias, writes[alias], probes)
		}
	}
	t.Logf("writes in %d probes: %v", probes, writes)
}

// TestTermSurvivesAgentRestart: primary_term_start comes from MySQL, so a
// new agent reports the same term; a promotion starts a new one.
func TestTermSurvivesAgentRestart(t *testing.T) {
	f := newFixture(t, false)
	a := f.startAgent(f.primary, primaryAlias)
	first := f.waitRecord(primaryAlias, 10*time.Second, "a serving primary", func(t *topology.Tablet) bool {
		return serving(t) && t.Type == topology.TypePrimary
	})
	if err := a.stop(t); err != nil {
		t.Fatalf("drain: %v", err)
	}
	if r, _ := f.record(primaryAlias); r != nil {
		t.Fatalf("record still there after the drain: %+v", r)
	}
	f.startAgent(f.primary, primaryAlias)
	again := f.waitRecord(primaryAlias, 10*time.Second, "a serving primary", serving)
	if !again.PrimaryTermStart.Equal(first.PrimaryTermStart) {
		t.Errorf("term after an agent restart: %v, want the same %v", again.PrimaryTermStart, first.PrimaryTermStart)
	}

	// Promote the replica by hand: its agent starts a newer term.
	f.startAgent(f.replicas[0], asyncAlias)
	f.waitRecord(asyncAlias, 10*time.Second, "a serving replica", serving)
	f.replicas[0].Exec("STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF")
	promoted := f.waitRecord(asyncAlias, 10*time.Second, "primary", func(t *topology.Tablet) bool {
		return t.Type == topology.TypePrimary && serving(t)
	})
	if !promoted.PrimaryTermStart.After(first.PrimaryTermStart) {
		t.Errorf("promoted term %v not after the old primary's %v", promoted.PrimaryTermStart, first.PrimaryTermStart)
	}
	// The old primary, still writable, fences itself.
	fenced := f.waitRecord(primaryAlias, 10*time.Second, "fenced by the split-brain guard", func(t *topology.Tablet) bool {
		return t.State == topology.StateNotServing && strings.Contains(t.HealthError, "split brain")
	})
	if !strings.Contains(fenced.HealthError, asyncAlias) {
		t.Errorf("health_error %q does not name the newer primary %s", fenced.HealthError, asyncAlias)
	}
	// Demoted by hand (read-only, no source): a replica that does not serve.
	f.primary.Exec("SET GLOBAL read_only = ON")
	f.waitRecord(primaryAlias, 10*time.Second, "a non-serving replica", func(t *topology.Tablet) bool {
		return t.Type == topology.TypeReplica && t.State == topology.StateNotServing &&
			strings.Contains(t.HealthError, "no replication source")
	})
}
