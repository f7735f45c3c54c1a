package ha

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/internal/proctest"
	"github.com/shardmesh/shardmesh/internal/xdstest"
)

var (
	chaosDuration = flag.Duration("chaos.duration", 60*time.Second, "length of TestChaos's fault run (make chaos DURATION=10m)")
	chaosSeed     = flag.Uint64("chaos.seed", 0, "TestChaos's random seed; 0 picks one and logs it")
)

// staleness is how long a client may still act on a topology that etcd has
// already changed: the convergence bound of the issue.
const staleness = 2 * time.Second

// The chaos fleet: shard 0 of keyspace "chaos", two tablets that take turns
// as primary (the one with the older term is fenced), three replicas whose
// schema version flips between the allowed v2 and the disallowed v1.
var (
	chaosPrimaries = []string{"zone1-0000000201", "zone1-0000000202"}
	chaosReplicas  = []string{"zone1-0000000211", "zone1-0000000212", "zone1-0000000213"}
)

// chaosState is the fleet as etcd holds it; a copy is kept per change.
type chaosState struct {
	at        time.Time       // when etcd committed it
	primary   int             // index in chaosPrimaries of the newest term
	terms     [2]time.Time    // primary_term_start of each
	serving   map[string]bool // replica alias -> SERVING
	badSchema map[string]bool // replica alias -> schema v1 (disallowed)
}

func (s chaosState) clone() chaosState {
	c := s
	c.serving, c.badSchema = map[string]bool{}, map[string]bool{}
	for k, v := range s.serving {
		c.serving[k] = v
	}
	for k, v := range s.badSchema {
		c.badSchema[k] = v
	}
	return c
}

func (s chaosState) fenced(alias string) bool {
	return alias == chaosPrimaries[1-s.primary]
}

// readable reports whether a replica read may go to alias.
func (s chaosState) readable(alias string) bool { return s.serving[alias] && !s.badSchema[alias] }

// puts are the etcd writes that make the state.
func (s chaosState) puts(backends xdstest.Backends) []clientv3.Op {
	rec := func(alias, typ string, serving bool, schema string, term time.Time) clientv3.Op {
		state := "NOT_SERVING"
		if serving {
			state = "SERVING"
		}
		r := map[string]any{"keyspace": "chaos", "shard": "0", "type": typ, "cell": "zone1",
			"hostname": "127.0.0.1", "port_map": map[string]any{"grpc": backends[alias].Port},
			"state": state, "replication": "semi-sync", "replication_lag_seconds": 0.1,
			"serving_since": "2026-11-20T10:00:00Z", "schema_version": schema}
		if typ == "primary" {
			r["primary_term_start"] = term.UTC().Format(time.RFC3339Nano)
		}
		b, _ := json.Marshal(r)
		return clientv3.OpPut("/shardmesh/tablets/"+alias, string(b))
	}
	ops := []clientv3.Op{
		clientv3.OpPut("/shardmesh/cells/zone1", `{"region":"r1","zone":"r1a"}`),
		clientv3.OpPut("/shardmesh/keyspaces/chaos", `{"schema_versions":["v2"]}`),
	}
	for i, a := range chaosPrimaries {
		ops = append(ops, rec(a, "primary", true, "v2", s.terms[i]))
	}
	for _, a := range chaosReplicas {
		schema := "v2"
		if s.badSchema[a] {
			schema = "v1"
		}
		ops = append(ops, rec(a, "replica", s.serving[a], schema, time.Time{}))
	}
	return ops
}

// rpcRecord is one RPC a client made.
type rpcRecord struct {
	at     time.Time
	client int
	write  bool
	alias  string // tablet that served it; "" if it failed
}

// timeline is the states etcd went through, in commit order.
type timeline struct {
	mu     sync.Mutex
	states []chaosState
}

func (tl *timeline) add(s chaosState) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.states = append(tl.states, s.clone())
}

// during returns the states in force at some moment of [from, to].
func (tl *timeline) during(from, to time.Time) []chaosState {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var out []chaosState
	for i, s := range tl.states {
		next := time.Time{}
		if i+1 < len(tl.states) {
			next = tl.states[i+1].at
		}
		if !s.at.After(to) && (next.IsZero() || next.After(from)) {
			out = append(out, s)
		}
	}
	return out
}

// violation returns why r broke an invariant, or "": a write reached a
// tablet fenced throughout the staleness window before it, or a read
// reached a tablet with a disallowed schema (or not serving) throughout it.
func (tl *timeline) violation(r rpcRecord) string {
	if r.alias == "" {
		return ""
	}
	states := tl.during(r.at.Add(-staleness), r.at)
	if len(states) == 0 {
		return ""
	}
	for _, s := range states {
		if r.write && !s.fenced(r.alias) && r.alias == chaosPrimaries[s.primary] {
			return ""
		}
		if !r.write && s.readable(r.alias) {
			return ""
		}
	}
	if r.write {
		return fmt.Sprintf("client %d wrote to %s at %s, fenced (an older primary term) for over %v", r.client, r.alias, r.at.Format("15:04:05.000"), staleness)
	}
	return fmt.Sprintf("client %d read from %s at %s, not serving or on a disallowed schema for over %v", r.client, r.alias, r.at.Format("15:04:05.000"), staleness)
}

// seedChaos returns a random seed unless -chaos.seed gives one.
func seedChaos(t *testing.T) uint64 {
	seed := *chaosSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("chaos seed %d (rerun with -chaos.seed=%d)", seed, seed)
	return seed
}

// replicaSet is the chaos run's replicas and their fault state.
type replicaSet struct {
	rs      []*proctest.Replica
	crashed []string // crashes seen before a restart replaced a process
}

func (s *replicaSet) checkCrash(r *proctest.Replica) {
	if crashed, how := r.Proc().Crashed(); crashed {
		s.crashed = append(s.crashed, fmt.Sprintf("%s: %s", r.Name, how))
	}
}

func (s *replicaSet) pick(rng *rand.Rand) *proctest.Replica { return s.rs[rng.IntN(len(s.rs))] }
