package topowatch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/embedetcd"
)

// etcd goes away: the Watcher reports it within a few probe intervals and
// publishes nothing; etcd comes back on the same data and address: the
// Watcher resumes from the revision after its last one (no re-list) and
// publishes the change made after the restart.
func TestFailStaticAndResume(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv)
	rev0 := seed(t, cli, fleet(3))

	var mu sync.Mutex
	var changes []Health // every health reported to OnHealth
	h := newHarness(Config{
		Client: cli, ProbeInterval: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Logger: testLogger(t, nil),
		OnHealth: func(hl Health) {
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, hl)
		},
	})
	lists := 0
	h.w.hooks.afterPage = func(page int, _ int64) {
		if page == 0 {
			lists++
		}
	}
	h.run(t)
	wantAliases(t, h.pubs.nextAt(t, rev0), 100, 101, 102)
	h.waitHealth(t, "synced", func(hl Health) bool { return hl.Connected && hl.Synced })

	stopped := time.Now()
	srv.Close()
	down := h.waitHealth(t, "disconnected", func(hl Health) bool { return !hl.Connected })
	t.Logf("disconnected %v after etcd stopped: %s", time.Since(stopped), down.LastError)
	if !down.Synced || down.Revision != rev0 || down.LastError == "" {
		t.Errorf("health while etcd is down = %+v, want synced at %d with an error", down, rev0)
	}
	h.pubs.none(t)

	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	srv2, err := embedetcd.Start(ctx, srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv2.Close)
	restarted := time.Now()
	// The first thing published after the outage is the first change
	// made after it, on top of the unchanged fleet.
	rev := put(t, cli, tabletKey(104), tabletJSON("0", "replica"))
	if rev != rev0+1 {
		t.Fatalf("first write after the restart is at revision %d, want %d", rev, rev0+1)
	}
	wantAliases(t, h.pubs.nextAt(t, rev), 100, 101, 102, 104)
	h.waitHealth(t, "connected at the new revision", func(hl Health) bool {
		return hl.Connected && hl.LastError == "" && hl.Revision == rev
	})
	t.Logf("connected %v after etcd restarted", time.Since(restarted))
	if lists != 1 {
		t.Errorf("listed %d times, want 1: the watch should resume, not re-list", lists)
	}

	mu.Lock()
	defer mu.Unlock()
	var sawDown bool
	for _, hl := range changes {
		sawDown = sawDown || !hl.Connected && hl.Synced
	}
	if !sawDown {
		t.Errorf("OnHealth never reported the outage: %+v", changes)
	}
}
