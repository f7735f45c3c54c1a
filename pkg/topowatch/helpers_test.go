package topowatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"

	"github.com/shardmesh/shardmesh/internal/embedetcd"
	"github.com/shardmesh/shardmesh/internal/ops"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

const (
	prefix  = "/shardmesh/"
	timeout = 10 * time.Second // for conditions that take milliseconds when all is well
)

func startEtcd(t *testing.T) *embedetcd.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	s, err := embedetcd.Start(ctx, embedetcd.Config{Dir: t.TempDir(), ClientAddr: "127.0.0.1:0", Logger: testLogger(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, s *embedetcd.Server) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   s.Endpoints(),
		DialTimeout: 2 * time.Second,
		Logger:      zap.NewNop(),
		// Reconnect quickly when etcd comes back (gRPC's default starts at 1 s).
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           grpcbackoff.Config{BaseDelay: 20 * time.Millisecond, Multiplier: 1.6, MaxDelay: 200 * time.Millisecond},
			MinConnectTimeout: time.Second,
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// testLogger logs Info and above to the test output and, if buf is not nil,
// to buf.
func testLogger(t *testing.T, buf *syncBuffer) *slog.Logger {
	h := slog.Handler(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	if buf != nil {
		h = slog.NewMultiHandler(h, slog.NewTextHandler(buf, nil))
	}
	return slog.New(h)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func alias(uid int) string { return fmt.Sprintf("zone1-%010d", uid) }

func tabletKey(uid int) string { return topology.TabletsPrefix + alias(uid) }

func tabletJSON(shard, typ string) string {
	return fmt.Sprintf(`{"keyspace":"commerce","shard":%q,"type":%q,"hostname":"10.0.0.1","port_map":{"grpc":15991},"state":"SERVING"}`, shard, typ)
}

// fleet returns a cell and n replica tablets, uids 100.., in shard "0".
func fleet(n int) []topology.Record {
	recs := []topology.Record{{Key: topology.CellsPrefix + "zone1", Value: []byte(`{"region":"r1"}`)}}
	for i := range n {
		recs = append(recs, topology.Record{Key: tabletKey(100 + i), Value: []byte(tabletJSON("0", "replica"))})
	}
	return recs
}

// seed writes recs and returns the revision after them.
func seed(t *testing.T, cli *clientv3.Client, recs []topology.Record) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	if err := ops.ApplyRecords(ctx, cli, prefix, recs); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(ctx, prefix, clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

// put writes one key under the prefix and returns its revision. It may be
// called from hooks, off the test goroutine.
func put(t *testing.T, cli *clientv3.Client, key, value string) int64 {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	resp, err := cli.Put(ctx, prefix+key, value)
	if err != nil {
		t.Errorf("put %s: %v", key, err)
		return 0
	}
	return resp.Header.Revision
}

func del(t *testing.T, cli *clientv3.Client, key string) int64 {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	resp, err := cli.Delete(ctx, prefix+key)
	if err != nil {
		t.Errorf("delete %s: %v", key, err)
		return 0
	}
	return resp.Header.Revision
}

// recorder is an Observer that queues every topology it receives.
type recorder chan *topology.Topology

func (r recorder) OnTopology(t *topology.Topology) { r <- t }

// next returns the next published topology.
func (r recorder) next(t *testing.T) *topology.Topology {
	t.Helper()
	select {
	case topo := <-r:
		return topo
	case <-time.After(timeout):
		t.Fatal("no topology published")
		return nil
	}
}

// nextAt returns the next published topology and fails unless it is at rev.
func (r recorder) nextAt(t *testing.T, rev int64) *topology.Topology {
	t.Helper()
	topo := r.next(t)
	if topo.Revision != rev {
		t.Fatalf("published revision %d, want %d", topo.Revision, rev)
	}
	return topo
}

// none fails if a topology has been published.
func (r recorder) none(t *testing.T) {
	t.Helper()
	select {
	case topo := <-r:
		t.Fatalf("unexpected topology at revision %d", topo.Revision)
	default:
	}
}

// aliases returns the aliases of every valid tablet, sorted.
func aliases(topo *topology.Topology) []string {
	var out []string
	for _, s := range topo.Shards {
		for _, tab := range s.Tablets {
			out = append(out, tab.Alias)
		}
	}
	slices.Sort(out)
	return out
}

func wantAliases(t *testing.T, topo *topology.Topology, uids ...int) {
	t.Helper()
	var want []string
	for _, uid := range uids {
		want = append(want, alias(uid))
	}
	slices.Sort(want)
	if got := aliases(topo); !slices.Equal(got, want) {
		t.Fatalf("revision %d: tablets %v, want %v", topo.Revision, got, want)
	}
}

func uids(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// harness is a Watcher under test, its publications and a signal of its
// health changes.
type harness struct {
	w       *Watcher
	pubs    recorder
	healthc chan struct{} // poked on every health change
}

// newHarness returns a Watcher with cfg (Client and Logger must be set) that
// publishes to h.pubs; hooks may be set on h.w before h.run.
func newHarness(cfg Config) *harness {
	h := &harness{pubs: make(recorder, 1000), healthc: make(chan struct{}, 1)}
	onHealth := cfg.OnHealth
	cfg.OnHealth = func(hl Health) {
		if onHealth != nil {
			onHealth(hl)
		}
		select {
		case h.healthc <- struct{}{}:
		default:
		}
	}
	h.w = New(cfg, h.pubs)
	return h
}

// run runs the Watcher until the test ends and checks that Run returns
// ctx.Err().
func (h *harness) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
}

// waitHealth waits until cond holds for the Watcher's Health.
func (h *harness) waitHealth(t *testing.T, what string, cond func(Health) bool) Health {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		hl := h.w.Health()
		if cond(hl) {
			return hl
		}
		select {
		case <-h.healthc:
		case <-deadline.C:
			t.Fatalf("health is not %s after %v: %+v", what, timeout, hl)
		}
	}
}

var shard0 = topology.ShardKey{Keyspace: "commerce", Shard: "0"}
