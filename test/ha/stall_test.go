package ha

import (
	"syscall"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// TestHAEtcdMemberStalled stops (SIGSTOP) each etcd member in turn under a
// replica: a stalled member keeps its connections open but answers
// nothing, which no connection error reveals, and clientv3's Watch blocks
// until the member confirms it. A change must still reach the client
// within 2 s (topowatch's stall check: Config.StallInterval).
func TestHAEtcdMemberStalled(t *testing.T) {
	h := &haEnv{c: startCluster(t, 3), f: newFleet(t), serving: replicaA}
	if err := h.f.seed(h.c.Client()); err != nil {
		t.Fatal(err)
	}
	r := startReplica(t, "xds-0", h.c)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", r.Name, r.Proc().Tail(4000))
		}
	})
	cl := xdstest.Dial(t, r.XDSAddr, client, keyspace, h.f.backends)
	routesTo(t, cl, 10*time.Second, replicaA, replicaRead...)
	for i, m := range h.c.Members {
		p := m.Proc()
		stopped := time.Now()
		p.Signal(syscall.SIGSTOP)
		h.change(t, cl, stopped, updateLimit, "etcd member "+m.Name+" stopped")
		p.Signal(syscall.SIGCONT)
		if err := h.c.WaitHealthy(30 * time.Second); err != nil {
			t.Fatalf("after SIGCONT to %s: %v", h.c.Members[i].Name, err)
		}
	}
}
