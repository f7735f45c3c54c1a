package topowatch

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

func TestBatcher(t *testing.T) {
	clock := clockwork.NewFakeClock()
	b := batcher{clock: clock, holdOff: 5 * time.Millisecond, maxDelay: 50 * time.Millisecond}
	fired := func() bool {
		select {
		case <-b.C():
			return true
		default:
			return false
		}
	}
	if b.pending() || b.C() != nil {
		t.Fatal("a new batcher has something pending")
	}

	// Quiet after one event: due after the hold-off.
	b.add()
	clock.Advance(4 * time.Millisecond)
	if fired() {
		t.Fatal("fired before the hold-off")
	}
	clock.Advance(time.Millisecond)
	if !fired() {
		t.Fatal("did not fire after the hold-off")
	}
	b.done()

	// An event every 4 ms keeps postponing the hold-off; the maximum
	// delay ends it 50 ms after the first.
	for i := 0; ; i++ {
		b.add()
		clock.Advance(4 * time.Millisecond)
		if fired() {
			if elapsed := 4 * (i + 1); elapsed != 52 {
				t.Fatalf("fired %d ms after the first event, want at the first step past 50 ms (52)", elapsed)
			}
			break
		}
		if i > 20 {
			t.Fatal("never fired while events kept coming")
		}
	}
	b.done()
	if b.pending() {
		t.Fatal("pending after done")
	}
}

// Against etcd, with a fake clock: a burst of puts is published once, after
// the hold-off; a steady trickle is published at the maximum delay.
func TestWatchBatchesBursts(t *testing.T) {
	const holdOff, maxDelay = 5 * time.Millisecond, 50 * time.Millisecond
	srv := startEtcd(t)
	cli := newClient(t, srv)
	rev0 := seed(t, cli, fleet(1))
	clock := clockwork.NewFakeClock()
	h := newHarness(Config{Client: cli, Clock: clock, HoldOff: holdOff, MaxDelay: maxDelay, ProbeInterval: -1, Logger: testLogger(t, nil)})
	applied := make(chan int64, 1000)
	h.w.hooks.applied = func(rev int64) { applied <- rev }
	waitApplied := func(rev int64) {
		t.Helper()
		deadline := time.After(timeout)
		for {
			select {
			case got := <-applied:
				if got >= rev {
					return
				}
			case <-deadline:
				t.Fatalf("revision %d not applied", rev)
			}
		}
	}
	h.run(t)
	wantAliases(t, h.pubs.nextAt(t, rev0), 100) // the first sync is not held off

	// A burst: every event applied, one timer pending, nothing published
	// until the hold-off has passed.
	var last int64
	for uid := 101; uid <= 110; uid++ {
		last = put(t, cli, tabletKey(uid), tabletJSON("0", "replica"))
	}
	waitApplied(last)
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("waiting for the hold-off timer: %v", err)
	}
	h.pubs.none(t)
	clock.Advance(holdOff - time.Nanosecond)
	h.pubs.none(t) // no timer expired: nothing can have been published
	clock.Advance(time.Nanosecond)
	wantAliases(t, h.pubs.nextAt(t, last), uids(100, 111)...)

	// A trickle, one event every 4 ms of fake time (less than the
	// hold-off): published once, 50 ms after the first, with every event
	// applied by then.
	const step = 4 * time.Millisecond
	var elapsed time.Duration
	for uid := 111; ; uid++ {
		last = put(t, cli, tabletKey(uid), tabletJSON("0", "replica"))
		waitApplied(last)
		h.pubs.none(t)
		clock.Advance(step)
		elapsed += step
		if elapsed >= maxDelay {
			break
		}
	}
	topo := h.pubs.nextAt(t, last)
	wantAliases(t, topo, uids(100, 124)...) // 13 events: 111..123
	h.pubs.none(t)
}
