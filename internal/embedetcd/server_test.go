package embedetcd

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	begin := time.Now()
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("etcd ready at %v in %v", s.Endpoints(), time.Since(begin))
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, s *Server) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   s.Endpoints(),
		DialTimeout: 2 * time.Second,
		// Reconnect quickly after a restart (gRPC's default starts at 1 s).
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 20 * time.Millisecond, Multiplier: 1.6, MaxDelay: 200 * time.Millisecond},
			MinConnectTimeout: time.Second,
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func TestRestartKeepsData(t *testing.T) {
	s := start(t, Config{Dir: t.TempDir(), ClientAddr: "127.0.0.1:0", Logger: testLogger(t)})
	if strings.HasSuffix(s.ClientAddr(), ":0") {
		t.Fatalf("ClientAddr() = %s, want the chosen port", s.ClientAddr())
	}
	if got, want := s.Endpoints(), "http://"+s.ClientAddr(); len(got) != 1 || got[0] != want {
		t.Fatalf("Endpoints() = %v, want [%s]", got, want)
	}
	cli := newClient(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	put, err := cli.Put(ctx, "/k", "v1")
	if err != nil {
		t.Fatal(err)
	}

	// A watch is open while the server closes: Close must not wait for it.
	wch := cli.Watch(ctx, "/k")
	begin := time.Now()
	s.Close()
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("Close with an open watch took %v", d)
	}
	s.Close() // idempotent

	s2 := start(t, s.Config())
	if s2.ClientAddr() != s.ClientAddr() {
		t.Fatalf("restarted on %s, want %s", s2.ClientAddr(), s.ClientAddr())
	}
	// The same client reconnects to the same address.
	get, err := cli.Get(ctx, "/k")
	if err != nil {
		t.Fatal(err)
	}
	if len(get.Kvs) != 1 || string(get.Kvs[0].Value) != "v1" {
		t.Fatalf("after restart /k = %v, want v1", get.Kvs)
	}
	if get.Header.Revision != put.Header.Revision {
		t.Errorf("after restart revision = %d, want %d", get.Header.Revision, put.Header.Revision)
	}
	put2, err := cli.Put(ctx, "/k", "v2")
	if err != nil {
		t.Fatal(err)
	}
	if put2.Header.Revision != put.Header.Revision+1 {
		t.Errorf("revision after restart = %d, want %d", put2.Header.Revision, put.Header.Revision+1)
	}
	// The watch opened before the restart resumes and sees the new value,
	// either on its original channel or, once that failed, on a new one.
	for ev := range watchEvents(ctx, cli, wch, put.Header.Revision+1) {
		if string(ev.Kv.Value) == "v2" {
			return
		}
	}
	t.Fatalf("watch did not see v2: %v", ctx.Err())
}

// watchEvents yields the events of wch, re-opening the watch from the next
// revision if wch ends, until ctx is done.
func watchEvents(ctx context.Context, cli *clientv3.Client, wch clientv3.WatchChan, next int64) func(func(*clientv3.Event) bool) {
	return func(yield func(*clientv3.Event) bool) {
		for ctx.Err() == nil {
			for resp := range wch {
				for _, ev := range resp.Events {
					if !yield(ev) {
						return
					}
					next = ev.Kv.ModRevision + 1
				}
			}
			wch = cli.Watch(ctx, "/k", clientv3.WithRev(next))
		}
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := Start(t.Context(), Config{ClientAddr: "127.0.0.1:0"}); err == nil {
		t.Error("Start without Dir: want an error")
	}
	if _, err := Start(t.Context(), Config{Dir: t.TempDir(), ClientAddr: "no-port"}); err == nil {
		t.Error("Start with a bad address: want an error")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Start(ctx, Config{Dir: t.TempDir(), ClientAddr: "127.0.0.1:0"}); err == nil {
		t.Error("Start with a cancelled context: want an error")
	}
}
