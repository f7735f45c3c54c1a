package xdscache

import (
	"context"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/shardmesh/shardmesh/pkg/weights"
)

// idleRecheck bounds how long RunPhaseTimer waits before looking again when
// nothing is ramping, draining or shifting: a new topology may start a
// ramp, whose first step is a quarter of its window after serving_since.
const idleRecheck = time.Second

// RunPhaseTimer rebuilds the snapshots whenever a time phase changes: a
// tablet's slow-start ramp, a cell drain or a shift reaching its next step
// (weights.NextPhaseChange), so that they progress without topology
// changes. Only the assignments and routes whose inputs changed are
// translated again. It returns ctx.Err() when ctx ends.
func (c *Cache) RunPhaseTimer(ctx context.Context, clock clockwork.Clock) error {
	for {
		var next time.Time
		ramping := false
		wait := idleRecheck
		if t := c.Topology(); t != nil {
			if next, ramping = weights.NextPhaseChange(t, clock.Now()); ramping {
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
