package snapshot

import (
	"context"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/shardmesh/shardmesh/pkg/weights"
)

// rampIdleRecheck bounds how long RunRamps waits before looking again when
// nothing is ramping: a new topology may start a ramp, whose first step is
// a quarter of its window after serving_since.
const rampIdleRecheck = time.Second

// RunRamps rebuilds the snapshots whenever a tablet's slow-start ramp
// reaches its next step, so that ramps progress without topology changes.
// Only the assignments of ramping shards are translated again. It returns
// ctx.Err() when ctx ends.
func (c *Cache) RunRamps(ctx context.Context, clock clockwork.Clock) error {
	for {
		var next time.Time
		ramping := false
		wait := rampIdleRecheck
		if t := c.Topology(); t != nil {
			if next, ramping = weights.NextRampChange(t, clock.Now()); ramping {
				wait = min(wait, next.Sub(clock.Now()))
			}
		}
		timer := clock.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.Chan():
		}
		if t := c.Topology(); ramping && t != nil && !clock.Now().Before(next) {
			c.OnTopology(t)
		}
	}
}
