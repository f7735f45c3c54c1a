package ha

import (
	"context"
	"maps"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/internal/etcdcluster"
	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// updateLimit is the bound: through any single fault, a change
// reaches clients within 2 s of the fault.
const updateLimit = 2 * time.Second

// haEnv is a 3-member etcd cluster, replicas and the test fleet, with one
// grpc-go client whose replica reads show which replica is serving.
type haEnv struct {
	c       *etcdcluster.Cluster
	f       *fleet
	serving string // the only serving replica tablet
}

// change makes the other replica tablet the serving one, writing until etcd
// takes it, and fails the test unless cl routes by it within limit of
// since (the fault). It returns how long that took.
func (h *haEnv) change(t *testing.T, cl *xdstest.Client, since time.Time, limit time.Duration, fault string) time.Duration {
	t.Helper()
	next := replicaA
	if h.serving == replicaA {
		next = replicaB
	}
	if _, err := writeWhenBack(h.c.Endpoints(), func(ctx context.Context, cli *clientv3.Client) error {
		return h.f.serveOnly(ctx, cli, next)
	}); err != nil {
		t.Fatalf("%s: %v", fault, err)
	}
	seen := firstCallTo(t, cl, next, since.Add(limit+10*time.Second))
	h.serving = next
	took := seen.Sub(since)
	t.Logf("%s: the next change reached the client %v after the fault", fault, took.Round(time.Millisecond))
	if took > limit {
		t.Errorf("%s: the next change reached the client %v after the fault, want <= %v", fault, took, limit)
	}
	return took
}

// TestHAEtcdMemberAndReplicaKills runs two xds-server replicas on a
// 3-member etcd cluster, all separate processes, and a grpc-go client that
// reaches the replicas through one name. It kills -9 the leader, then every
// member in turn (so also the one each replica's watch rides on), then the
// replica the client is on: after each kill a change reaches the client
// within 2 s, and after the replica kill the client is configured by the
// other replica with the versions it already held.
func TestHAEtcdMemberAndReplicaKills(t *testing.T) {
	h := &haEnv{c: startCluster(t, 3), f: newFleet(t), serving: replicaA}
	if err := h.f.seed(h.c.Client()); err != nil {
		t.Fatal(err)
	}
	r0 := startReplica(t, "xds-0", h.c)
	r1 := startReplica(t, "xds-1", h.c)
	node := client
	node.ID = "app-ha"
	cl := xdstest.DialBootstrap(t, xdstest.Bootstrap(newFront(r0, r1), node), keyspace, h.f.backends)
	routesTo(t, cl, 10*time.Second, replicaA, replicaRead...)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	leader, err := h.c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	h.c.Kill(leader)
	h.change(t, cl, killed, updateLimit, "etcd leader "+h.c.Members[leader].Name+" killed")
	h.restartMember(t, leader)

	for i, m := range h.c.Members {
		killed := time.Now()
		h.c.Kill(i)
		h.change(t, cl, killed, updateLimit, "etcd member "+m.Name+" killed")
		h.restartMember(t, i)
	}

	// The replica the client is on dies.
	on, other := r0, r1
	if acked(r0, node.ID) == nil {
		on, other = r1, r0
	}
	before := acked(on, node.ID)
	if len(before) < 4 {
		t.Fatalf("%s: node %s has ACKed %v, want LDS, RDS, CDS and EDS", on.Name, node.ID, before)
	}
	killed = time.Now()
	on.Kill()
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := acked(other, node.ID)
		return maps.Equal(got, before), "on " + other.Name + " the client ACKed " + fmtVersions(got) + ", want the versions it held: " + fmtVersions(before)
	})
	moved := time.Since(killed)
	t.Logf("replica %s killed: the client ACKed its same versions on %s %v later", on.Name, other.Name, moved.Round(time.Millisecond))
	if moved > time.Second {
		t.Errorf("the client took %v to be configured by %s after %s died, want <= 1s", moved, other.Name, on.Name)
	}
	h.change(t, cl, killed, updateLimit, "replica "+on.Name+" killed")
	if crashed, how := other.Proc().Crashed(); crashed {
		t.Errorf("%s crashed: %s", other.Name, how)
	}
}

// restartMember restarts member i and waits for the cluster to be healthy
// with it.
func (h *haEnv) restartMember(t *testing.T, i int) {
	t.Helper()
	if err := h.c.StartMember(i); err != nil {
		t.Fatal(err)
	}
	if err := h.c.WaitHealthy(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func fmtVersions(m map[string]string) string {
	s := "{"
	for _, k := range slicesSorted(m) {
		s += " " + k[len(k)-min(len(k), 20):] + "=" + m[k]
	}
	return s + " }"
}
