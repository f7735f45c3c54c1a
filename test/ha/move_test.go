package ha

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/status"

	"github.com/shardmesh/shardmesh/internal/proctest"
	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// callLoop makes replica reads until stop is called, and returns how many
// failed and how they failed.
func callLoop(cl *xdstest.Client) (stop func() (failed int, last string)) {
	var wg sync.WaitGroup
	done := make(chan struct{})
	var failed int
	var last string
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := cl.Call(context.Background(), replicaRead...); err != nil {
				failed++
				last = status.Code(err).String() + ": " + err.Error()
			}
		}
	})
	return func() (int, string) {
		close(done)
		wg.Wait()
		return failed, last
	}
}

// onReplica returns the replica of rs on which node id has a stream, and
// the versions it ACKed there.
func onReplica(t *testing.T, id string, rs ...*proctest.Replica) (*proctest.Replica, map[string]string) {
	t.Helper()
	var on *proctest.Replica
	var versions map[string]string
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		for _, r := range rs {
			if v := acked(r, id); len(v) >= 4 {
				on, versions = r, v
				return true, ""
			}
		}
		return false, "node " + id + " has no configured stream on any replica"
	})
	return on, versions
}

// TestDrainMovesClientsWithSameVersions sends SIGTERM to the replica a
// client is on: its /readyz turns 503, the client is configured by the
// other replica with the versions it already held, within 1 s of its
// stream ending, no RPC fails meanwhile, and the drained replica exits 0.
func TestDrainMovesClientsWithSameVersions(t *testing.T) {
	c := startCluster(t, 1)
	f := newFleet(t)
	if err := f.seed(c.Client()); err != nil {
		t.Fatal(err)
	}
	const drain = time.Second
	r0 := startReplica(t, "xds-0", c, "--drain-timeout=1s")
	r1 := startReplica(t, "xds-1", c, "--drain-timeout=1s")
	node := client
	node.ID = "app-drain"
	cl := xdstest.DialBootstrap(t, xdstest.Bootstrap(newFront(r0, r1), node), keyspace, f.backends)
	routesTo(t, cl, 10*time.Second, replicaA, replicaRead...)
	on, before := onReplica(t, node.ID, r0, r1)
	other := r0
	if on == r0 {
		other = r1
	}

	stop := callLoop(cl)
	termed := time.Now()
	on.Signal(syscall.SIGTERM)
	// A load balancer sees the drain: /readyz turns 503 while streams move.
	xdstest.Eventually(t, drain, func() (bool, string) {
		code := readyz(on)
		return code == http.StatusServiceUnavailable, fmt.Sprintf("%s /readyz answered %d during the drain, want 503", on.Name, code)
	})
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := acked(other, node.ID)
		return maps.Equal(got, before), fmt.Sprintf("on %s the client ACKed %s, want the versions it held: %s", other.Name, fmtVersions(got), fmtVersions(before))
	})
	moved := time.Since(termed)
	failed, last := stop()
	t.Logf("SIGTERM to %s: the client ACKed the same versions on %s %v later (drain timeout %v)", on.Name, other.Name, moved.Round(time.Millisecond), drain)
	if moved > drain+time.Second {
		t.Errorf("the client was configured by %s %v after SIGTERM to %s, want <= %v (the drain timeout) + 1s", other.Name, moved, on.Name, drain)
	}
	if failed > 0 {
		t.Errorf("%d replica reads failed while %s drained; the last: %s", failed, on.Name, last)
	}
	st, err := on.Proc().Wait(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if st.ExitCode() != 0 {
		t.Errorf("%s exited with %v after SIGTERM, want 0; log: %s", on.Name, st, on.Proc().Tail(1500))
	}
	routesTo(t, cl, 10*time.Second, replicaA, replicaRead...)
}

// TestMaxConnectionAgeRebalances starts 8 clients while only one of two
// replicas runs, then the second: with --max-connection-age=2s the clients
// spread over both replicas, every one still configured and none NACKing.
func TestMaxConnectionAgeRebalances(t *testing.T) {
	c := startCluster(t, 1)
	f := newFleet(t)
	if err := f.seed(c.Client()); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--max-connection-age=2s", "--max-connection-age-grace=1s"}
	r0 := startReplica(t, "xds-0", c, flags...)
	r1, err := proctest.NewReplica(t, "xds-1", xdsServerBin, append([]string{"--etcd-endpoints=" + joinEndpoints(c.Endpoints())}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	target := newFront(r0, r1)
	const n = 8
	var clients []*xdstest.Client
	for i := range n {
		node := client
		node.ID = fmt.Sprintf("app-age-%d", i)
		cl := xdstest.DialBootstrap(t, xdstest.Bootstrap(target, node), keyspace, f.backends)
		routesTo(t, cl, 10*time.Second, replicaA, replicaRead...)
		clients = append(clients, cl)
	}
	if err := r1.Start(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	xdstest.Eventually(t, 30*time.Second, func() (bool, string) {
		n0, _ := nodes(r0)
		n1, _ := nodes(r1)
		return len(n1) >= 2 && len(n0) >= 2, fmt.Sprintf("streams: %d on %s, %d on %s", len(n0), r0.Name, len(n1), r1.Name)
	})
	t.Logf("after scale-up, clients spread over both replicas within %v", time.Since(started).Round(100*time.Millisecond))
	for _, cl := range clients {
		routesTo(t, cl, 10*time.Second, replicaA, replicaRead...)
	}
	for _, r := range []*proctest.Replica{r0, r1} {
		ns, _ := nodes(r)
		for _, nd := range ns {
			if nd.LastNack != nil {
				t.Errorf("%s: node %s NACKed %+v", r.Name, nd.NodeID, nd.LastNack)
			}
		}
	}
}

// TestBootstrapFallback lists two replicas in the client's bootstrap
// (gRFC A71): with the first down when the client starts, the client is
// configured by the second and follows changes through it.
//
// Not asserted, because grpc-go v1.85 gets it wrong: when the first server
// returns, grpc-go reverts to it and unsubscribes every resource from the
// fallback, but resources first watched during fallback (here RDS, CDS and
// EDS; only LDS was watched before) are never subscribed on the primary,
// so the client stops receiving their updates (authority.go subscribes new
// watches on the active channel only). docs/operations.md therefore
// recommends one address in front of the replicas rather than A71 lists.
func TestBootstrapFallback(t *testing.T) {
	c := startCluster(t, 1)
	f := newFleet(t)
	if err := f.seed(c.Client()); err != nil {
		t.Fatal(err)
	}
	r0 := startReplica(t, "xds-0", c)
	r1 := startReplica(t, "xds-1", c)
	r0.Kill()
	node := client
	node.ID = "app-fallback"
	cl := xdstest.DialBootstrap(t, xdstest.BootstrapServers([]string{r0.XDSAddr, r1.XDSAddr}, node), keyspace, f.backends)
	routesTo(t, cl, 15*time.Second, replicaA, replicaRead...)
	if on, _ := onReplica(t, node.ID, r0, r1); on != r1 {
		t.Fatalf("the client is on %s, want the fallback %s", on.Name, r1.Name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.serveOnly(ctx, c.Client(), replicaB); err != nil {
		t.Fatal(err)
	}
	routesTo(t, cl, 10*time.Second, replicaB, replicaRead...)
}

// readyz returns the status code of r's /readyz, 0 if it does not answer.
func readyz(r *proctest.Replica) int {
	cli := http.Client{Timeout: time.Second}
	resp, err := cli.Get("http://" + r.AdminAddr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
