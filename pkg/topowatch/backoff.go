package topowatch

import (
	"context"
	"time"

	"github.com/jonboulle/clockwork"
)

// backoff spaces out retries against etcd: min, then doubling up to max. It
// is used by one goroutine.
type backoff struct {
	clock    clockwork.Clock
	min, max time.Duration
	next     time.Duration // 0: min
}

// wait blocks for the next delay; it returns false if ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	d := max(b.next, b.min)
	b.next = min(2*d, b.max)
	t := b.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.Chan():
		return true
	}
}

// reset starts the next series of retries at min again.
func (b *backoff) reset() { b.next = 0 }
