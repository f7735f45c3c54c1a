package topowatch

import (
	"time"

	"github.com/jonboulle/clockwork"
)

// batcher decides when applied events are published: HoldOff after the
// latest event, but no later than MaxDelay after the first unpublished one
// (Contour's hold-off with a maximum delay). It is used by one goroutine.
type batcher struct {
	clock    clockwork.Clock
	holdOff  time.Duration
	maxDelay time.Duration

	first time.Time       // of the first unpublished event
	timer clockwork.Timer // nil when nothing is pending
}

// add records that an event was applied and moves the publication time.
func (b *batcher) add() {
	now := b.clock.Now()
	if b.timer == nil {
		b.first = now
	} else {
		b.timer.Stop()
	}
	wait := min(b.holdOff, b.first.Add(b.maxDelay).Sub(now))
	// A new timer each time: a stopped timer's channel may still hold a
	// stale tick.
	b.timer = b.clock.NewTimer(wait)
}

// C fires when pending events are due; it is nil (never ready) when nothing
// is pending.
func (b *batcher) C() <-chan time.Time {
	if b.timer == nil {
		return nil
	}
	return b.timer.Chan()
}

// pending reports whether events were applied since the last done.
func (b *batcher) pending() bool { return b.timer != nil }

// done records that everything applied has been published.
func (b *batcher) done() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
}
