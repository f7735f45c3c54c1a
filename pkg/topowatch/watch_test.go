package topowatch

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

func TestWatchAppliesPutsAndDeletes(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv)
	rev0 := seed(t, cli, fleet(3)) // tablets 100..102
	var logs syncBuffer
	h := newHarness(Config{Client: cli, ProbeInterval: -1, Logger: testLogger(t, &logs)})
	h.run(t)
	wantAliases(t, h.pubs.nextAt(t, rev0), 100, 101, 102)

	rev := put(t, cli, tabletKey(104), tabletJSON("0", "rdonly"))
	topo := h.pubs.nextAt(t, rev)
	wantAliases(t, topo, 100, 101, 102, 104)
	if tab := topo.Shards[shard0].Tablets[3]; tab.Type != "rdonly" {
		t.Errorf("tablet 104 type = %s, want rdonly", tab.Type)
	}

	rev = del(t, cli, tabletKey(101))
	wantAliases(t, h.pubs.nextAt(t, rev), 100, 102, 104)

	// An invalid record takes its tablet out and names itself; the other
	// tablets keep routing.
	rev = put(t, cli, tabletKey(102), `{"keyspace":"commerce","shard":"0","type":"replica","hostname":"h","port_map":{"grpc":70000},"state":"SERVING"}`)
	topo = h.pubs.nextAt(t, rev)
	wantAliases(t, topo, 100, 104)
	if len(topo.Problems) != 1 || topo.Problems[0].Key != tabletKey(102) || !strings.Contains(topo.Problems[0].Err.Error(), "port_map.grpc") {
		t.Fatalf("problems = %v, want one for %s naming port_map.grpc", topo.Problems, tabletKey(102))
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "key="+prefix+tabletKey(102)) {
		t.Errorf("no warning naming the key %s in the log:\n%s", prefix+tabletKey(102), l)
	}

	// Fixing it clears the problem.
	rev = put(t, cli, tabletKey(102), tabletJSON("0", "replica"))
	topo = h.pubs.nextAt(t, rev)
	wantAliases(t, topo, 100, 102, 104)
	if len(topo.Problems) != 0 {
		t.Errorf("problems after the fix = %v", topo.Problems)
	}

	// A transaction's events share one revision: every one is applied.
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	txn, err := cli.Txn(ctx).Then(
		clientv3.OpPut(prefix+tabletKey(105), tabletJSON("0", "replica")),
		clientv3.OpPut(prefix+tabletKey(106), tabletJSON("0", "replica")),
		clientv3.OpDelete(prefix+tabletKey(104))).Commit()
	if err != nil {
		t.Fatal(err)
	}
	rev = txn.Header.Revision
	wantAliases(t, h.pubs.nextAt(t, rev), 100, 102, 105, 106)
	h.waitHealth(t, "connected at the last revision", func(hl Health) bool { return hl.Connected && hl.Revision == rev })
}

// When the revision to resume from has been compacted away, the Watcher
// lists the prefix again and carries on watching.
func TestWatchRelistsAfterCompaction(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv)
	rev0 := seed(t, cli, fleet(3))
	h := newHarness(Config{Client: cli, ProbeInterval: -1, Logger: testLogger(t, nil)})
	lists := 0
	h.w.hooks.afterPage = func(page int, _ int64) {
		if page == 0 {
			lists++
		}
	}
	var compacted int64
	h.w.hooks.beforeWatch = func(from int64) {
		if compacted != 0 {
			return
		}
		// Before the first watch opens: change the fleet and compact
		// etcd past the revision the watch starts from, as if the
		// Watcher had been cut off for longer than etcd keeps history.
		put(t, cli, tabletKey(105), tabletJSON("0", "replica"))
		compacted = del(t, cli, tabletKey(101))
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		if _, err := cli.Compact(ctx, compacted, clientv3.WithCompactPhysical()); err != nil {
			t.Errorf("compact: %v", err)
		}
		if from >= compacted {
			t.Errorf("watch from %d is not below the compaction at %d", from, compacted)
		}
	}
	h.run(t)

	wantAliases(t, h.pubs.nextAt(t, rev0), 100, 101, 102)
	relisted := h.pubs.next(t) // happens after the hook: read compacted only now
	if relisted.Revision != compacted {
		t.Fatalf("published revision %d after the compaction, want %d", relisted.Revision, compacted)
	}
	wantAliases(t, relisted, 100, 102, 105)
	if lists != 2 {
		t.Errorf("listed %d times, want 2", lists)
	}
	// The watch after the re-list works.
	rev := put(t, cli, tabletKey(106), tabletJSON("0", "replica"))
	wantAliases(t, h.pubs.nextAt(t, rev), 100, 102, 105, 106)
	h.waitHealth(t, "connected at the last revision", func(hl Health) bool {
		return hl.Connected && hl.LastError == "" && hl.Revision == rev
	})
}

// When the watch ends (here: its stream is cancelled under the Watcher), the
// Watcher opens a new one from the last revision it applied,
// without listing again, and gets the events it missed.
func TestWatchResumesFromLastRevision(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv)
	rev0 := seed(t, cli, fleet(3))
	h := newHarness(Config{Client: cli, ProbeInterval: -1, MaxBackoff: 20 * time.Millisecond, Logger: testLogger(t, nil)})
	lists := 0
	h.w.hooks.afterPage = func(page int, _ int64) {
		if page == 0 {
			lists++
		}
	}
	cancels := make(chan func(), 10)
	h.w.hooks.watchOpened = func(cancel func()) { cancels <- cancel }
	froms := make(chan int64, 10)
	var missed int64
	h.w.hooks.beforeWatch = func(from int64) {
		froms <- from
		if len(froms) == 2 { // the second watch: write what it must catch up on
			put(t, cli, tabletKey(105), tabletJSON("0", "replica"))
			missed = del(t, cli, tabletKey(100))
		}
	}
	h.run(t)
	wantAliases(t, h.pubs.nextAt(t, rev0), 100, 101, 102)
	rev1 := put(t, cli, tabletKey(104), tabletJSON("0", "replica"))
	wantAliases(t, h.pubs.nextAt(t, rev1), 100, 101, 102, 104)

	(<-cancels)() // the first watch ends
	var topo *topology.Topology
	for topo == nil || topo.Revision < missed || missed == 0 {
		topo = h.pubs.next(t) // happens after the second beforeWatch
		if topo.Revision <= rev1 {
			t.Fatalf("published revision %d again", topo.Revision)
		}
	}
	if topo.Revision != missed {
		t.Fatalf("published revision %d, want %d", topo.Revision, missed)
	}
	wantAliases(t, topo, 101, 102, 104, 105)
	if first, second := <-froms, <-froms; first != rev0 || second != rev1 {
		t.Errorf("watched from %d then %d, want %d then %d", first, second, rev0, rev1)
	}
	if lists != 1 {
		t.Errorf("listed %d times, want 1", lists)
	}
	h.waitHealth(t, "connected", func(hl Health) bool { return hl.Connected })
}

// On a quiet etcd, the member answers the watch's progress requests and the
// watch stays open. etcd answers a progress request only for a watch whose
// start revision it has reached, so a watch opened from the revision after
// the last one would get no answer until the next write, and be reopened
// as stalled every two intervals, with a warning each time.
func TestQuietWatchStaysOpen(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv)
	rev := seed(t, cli, fleet(3))
	h := newHarness(Config{Client: cli, ProbeInterval: -1, Logger: testLogger(t, nil)}) // the default StallInterval
	var opened atomic.Int64
	h.w.hooks.watchOpened = func(func()) { opened.Add(1) }
	answers := make(chan struct{}, 100)
	h.w.hooks.progress = func() {
		select {
		case answers <- struct{}{}:
		default:
		}
	}
	h.run(t)
	wantAliases(t, h.pubs.nextAt(t, rev), 100, 101, 102)
	deadline := time.After(10 * time.Second)
	for range 5 {
		select {
		case <-answers:
		case <-deadline:
			t.Fatalf("the member answered %d progress requests in 10 s, want 5; the watch was opened %d times", len(answers), opened.Load())
		}
	}
	if n := opened.Load(); n != 1 {
		t.Errorf("the watch was opened %d times while etcd was quiet, want 1", n)
	}
}
