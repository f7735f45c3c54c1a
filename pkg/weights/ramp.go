package weights

import (
	"slices"
	"strconv"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// RampSteps is how many steps a slow-start ramp takes from
// ramp.min_weight_percent to full weight, so that a ramp causes a bounded
// number of pushes (RampSteps) rather than one per tick.
const RampSteps = 4

// rampStep returns the ramp step of a serving tablet at now: 0..RampSteps-1
// while ramping, RampSteps when done. A tablet without serving_since, or a
// keyspace without a ramp window, does not ramp.
func rampStep(ks *topology.Keyspace, t *topology.Tablet, now time.Time) int {
	if ks.Ramp.Window <= 0 || t.ServingSince.IsZero() || t.State != topology.StateServing {
		return RampSteps
	}
	age := now.Sub(t.ServingSince)
	if age >= ks.Ramp.Window {
		return RampSteps
	}
	if age < 0 {
		return 0 // serving_since in the future: clock skew, start at the bottom
	}
	return int(age * RampSteps / ks.Ramp.Window)
}

// rampPercent is the weight percent at a ramp step: from
// ramp.min_weight_percent at step 0 up to 100 at RampSteps.
func rampPercent(ks *topology.Keyspace, step int) uint32 {
	lo := ks.Ramp.MinWeightPercent
	return lo + (100-lo)*uint32(step)/RampSteps
}

// NextPhaseChange returns the earliest time after now at which some
// tablet's ramp step, some cell drain's step or some shift's step changes,
// so that the caller can rebuild then; ok is false when nothing is ramping,
// draining or shifting.
func NextPhaseChange(topo *topology.Topology, now time.Time) (next time.Time, ok bool) {
	next, ok = NextShiftChange(topo, now)
	for _, d := range topo.Overrides.Drains {
		if step := d.Step(now, RampSteps); step < RampSteps {
			at := d.StartedAt.Add(d.Window * time.Duration(step+1) / RampSteps)
			if !ok || at.Before(next) {
				next, ok = at, true
			}
		}
	}
	for _, s := range topo.Shards {
		ks := topo.Keyspaces[s.Keyspace]
		if ks == nil {
			continue
		}
		for _, t := range s.Tablets {
			step := rampStep(ks, t, now)
			if step >= RampSteps {
				continue
			}
			at := t.ServingSince.Add(ks.Ramp.Window * time.Duration(step+1) / RampSteps)
			if !at.After(now) {
				at = now.Add(time.Millisecond)
			}
			if !ok || at.Before(next) {
				next, ok = at, true
			}
		}
	}
	return next, ok
}

// drain applies an operator's drain of the tablet's cell to a verdict: its
// weights fall in RampSteps steps over the drain's window, and at the end
// an eligible tablet turns Draining. It reports whether the tablet is still
// taking a reduced share (the drain is under way).
func drain(v *verdict, drains []DrainStep, cell string) bool {
	i := slices.IndexFunc(drains, func(d DrainStep) bool { return d.Cell == cell })
	if i < 0 {
		return false
	}
	d := drains[i]
	step := d.Step
	if step >= RampSteps {
		if v.health == Healthy || v.health == Degraded {
			v.health = Draining
			v.why, v.detail = ReasonCellDrained, "cell "+cell+" drained"
			if d.Reason != "" {
				v.detail += " (" + d.Reason + ")"
			}
		}
		return false
	}
	left := uint32(100 * (RampSteps - step) / RampSteps)
	v.weight, v.envoy = scale(v.weight, left), scale(v.envoy, left)
	if v.why == "" {
		v.note = "cell " + cell + " draining: step " + strconv.Itoa(step+1) + " of " + strconv.Itoa(RampSteps) + ", " + strconv.Itoa(int(left)) + "% of its weight"
	}
	return true
}

// rampStepsAt returns the slow-start step of each of a shard's tablets at
// now, by index, for readers.
func rampStepsAt(ks *topology.Keyspace, s *topology.Shard, now time.Time) func(int) int {
	return func(i int) int { return rampStep(ks, s.Tablets[i], now) }
}
