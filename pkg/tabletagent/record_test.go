package tabletagent

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

func TestDerive(t *testing.T) {
	cfg, err := Config{Alias: "zone1-0000000101", Keyspace: "commerce", Shard: "-80", Hostname: "h",
		PortMap: map[string]uint32{"grpc": 1}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	replica := Status{HasSource: true, IORunning: true, SQLRunning: true, Lag: 300 * time.Millisecond, LagKnown: true}
	for name, tc := range map[string]struct {
		st        Status
		fence     *topology.Tablet
		typ       topology.TabletType
		state     topology.ServingState
		errSubstr string
		repl      string
	}{
		"writable, no source: primary": {st: Status{Writable: true, TermStart: t0},
			typ: topology.TypePrimary, state: topology.StateServing},
		"writable but a newer primary exists: fenced": {st: Status{Writable: true, TermStart: t0},
			fence: &topology.Tablet{Alias: "zone2-0000000201", PrimaryTermStart: t0.Add(time.Minute)},
			typ:   topology.TypePrimary, state: topology.StateNotServing, errSubstr: "split brain: instance is writable but zone2-0000000201"},
		"replicating, semi-sync": {st: with(replica, func(s *Status) { s.SemiSync = true }),
			typ: topology.TypeReplica, state: topology.StateServing, repl: topology.ReplicationSemiSync},
		"replicating, writable: still a replica": {st: with(replica, func(s *Status) { s.Writable = true }),
			typ: topology.TypeReplica, state: topology.StateServing, repl: topology.ReplicationAsync},
		"writable, replication stopped, source configured: a replica that does not serve": {
			st:  with(replica, func(s *Status) { s.Writable, s.IORunning, s.SQLRunning = true, false, false }),
			typ: topology.TypeReplica, state: topology.StateNotServing, errSubstr: "RESET SLAVE ALL to promote", repl: "async"},
		"SQL thread stopped by error": {st: with(replica, func(s *Status) { s.SQLRunning, s.SQLError = false, "Duplicate entry" }),
			typ: topology.TypeReplica, state: topology.StateNotServing, errSubstr: "replication SQL thread not running: Duplicate entry", repl: "async"},
		"IO thread stopped": {st: with(replica, func(s *Status) { s.IORunning = false }),
			typ: topology.TypeReplica, state: topology.StateNotServing, errSubstr: "IO thread not running", repl: "async"},
		"read-only, no source": {st: Status{},
			typ: topology.TypeReplica, state: topology.StateNotServing, errSubstr: "no replication source", repl: "async"},
		"lag unknown": {st: with(replica, func(s *Status) { s.LagKnown = false }),
			typ: topology.TypeReplica, state: topology.StateNotServing, errSubstr: "lag unknown", repl: "async"},
		"unreachable": {st: Status{Err: errors.New("dial tcp: connection refused")},
			typ: topology.TypeReplica, state: topology.StateNotServing, errSubstr: "mysql: dial tcp: connection refused"},
	} {
		t.Run(name, func(t *testing.T) {
			m := &memory{fence: tc.fence}
			got := derive(&cfg, tc.st, m, t0)
			if got.Type != tc.typ || got.State != tc.state || got.Replication != tc.repl {
				t.Errorf("type %s state %s replication %q, want %s %s %q", got.Type, got.State, got.Replication, tc.typ, tc.state, tc.repl)
			}
			if (tc.errSubstr == "") != (got.HealthError == "") || !strings.Contains(got.HealthError, tc.errSubstr) {
				t.Errorf("health_error %q, want one containing %q", got.HealthError, tc.errSubstr)
			}
			if serving := got.State == topology.StateServing; serving != got.ServingSince.Equal(t0) {
				t.Errorf("serving_since %v with state %s", got.ServingSince, got.State)
			}
			if _, err := topology.EncodeTablet(got); err != nil {
				t.Errorf("record does not validate: %v", err)
			}
		})
	}
}

func with(s Status, f func(*Status)) Status {
	f(&s)
	return s
}

// TestServingSincePeriods: serving_since marks the start of the current
// SERVING period; an interruption starts a new one (and a new ramp).
func TestServingSincePeriods(t *testing.T) {
	cfg, _ := Config{Alias: "zone1-0000000101", Keyspace: "ks", Shard: "0", Hostname: "h", PortMap: map[string]uint32{"grpc": 1}}.withDefaults()
	ok := Status{HasSource: true, IORunning: true, SQLRunning: true, LagKnown: true}
	m := &memory{}
	steps := []struct {
		st   Status
		want time.Time
	}{{ok, t0}, {ok, t0}, {Status{Err: errors.New("down")}, time.Time{}}, {ok, t0.Add(3 * time.Second)}, {ok, t0.Add(3 * time.Second)}}
	for i, s := range steps {
		if got := derive(&cfg, s.st, m, t0.Add(time.Duration(i)*time.Second)).ServingSince; !got.Equal(s.want) {
			t.Errorf("probe %d: serving_since %v, want %v", i, got, s.want)
		}
	}
}

func TestSteadyLag(t *testing.T) {
	for name, tc := range map[string]struct {
		written, next, want time.Duration
	}{
		"jitter below 0.5s is not written":        {0, 400 * time.Millisecond, 0},
		"0.5s more is written":                    {0, 500 * time.Millisecond, 500 * time.Millisecond},
		"under 10% of a large lag is not written": {20 * time.Second, 21 * time.Second, 20 * time.Second},
		"10% of a large lag is written":           {20 * time.Second, 22 * time.Second, 22 * time.Second},
		"recovery is written":                     {20 * time.Second, 100 * time.Millisecond, 100 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			next := &topology.Tablet{ReplicationLag: tc.next}
			steadyLag(&topology.Tablet{ReplicationLag: tc.written}, next)
			if next.ReplicationLag != tc.want {
				t.Errorf("lag %v, want %v", next.ReplicationLag, tc.want)
			}
		})
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	good := Config{Alias: "zone1-0000000101", Keyspace: "ks", Shard: "-80", Hostname: "h", PortMap: map[string]uint32{"grpc": 1}}
	for want, f := range map[string]func(*Config){
		"alias: alias \"zone1-101\" is not": func(c *Config) { c.Alias = "zone1-101" },
		"shard: ":                           func(c *Config) { c.Shard = "-8" },
		"keyspace: required":                func(c *Config) { c.Keyspace = "" },
		"port-map: required":                func(c *Config) { c.PortMap = nil },
		"replica-type: \"spare\"":           func(c *Config) { c.ReplicaType = topology.TypeSpare },
		"lease-ttl: ":                       func(c *Config) { c.LeaseTTL = time.Second; c.Interval = time.Second },
		"port_map.grpc: 70000 out of range": func(c *Config) { c.PortMap = map[string]uint32{"grpc": 70000} },
	} {
		c := good
		f(&c)
		_, err := c.withDefaults()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want ErrConfig naming %q", err, want)
		}
	}
}
