package e2e

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// Issue #10: editing an operator record that is already in force (a
// shift's target or steps, a drain's window, a routing rule) must move
// traffic to the new intent as fast as writing it did, not wait for some
// tablet or step to change. Each test measures from the etcd write.

// editDeadline is how soon after the etcd write an edit must have moved
// the client's traffic.
const editDeadline = time.Second

// editSample is how many calls are counted once traffic has moved, to check
// where all of it goes.
const editSample = 200

// edit writes an operator record and returns when the write began: the
// moment from which its effect is measured.
func (e *env) edit(key, value string) time.Time {
	e.t.Helper()
	start := time.Now()
	e.put(key, value)
	return start
}

// movesWithin makes batches of calls until done accepts one, and fails the
// test when that has not happened editDeadline after start. It returns the
// time from start to the first accepted batch (polling included).
func movesWithin(t *testing.T, c *xdstest.Client, start time.Time, batch int, done func(xdstest.Counts) bool, want string, headers ...string) time.Duration {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		got := c.Count(batch, headers...)
		took := time.Since(start)
		if ok := done(got); ok && took <= editDeadline {
			return took
		} else if ok || took > editDeadline {
			t.Fatalf("%v after the etcd write, headers %q: calls went to %v, want %s within %v", took, headers, got, want, editDeadline)
		}
		<-tick.C
	}
}

// percentOn is the share of the calls, in percent, that went to any of the
// tablets.
func percentOn(got xdstest.Counts, aliases ...string) float64 {
	n := 0
	for _, a := range aliases {
		n += got[a]
	}
	return 100 * float64(n) / float64(max(got.Total(), 1))
}

// settled counts editSample calls once traffic has moved and checks that at
// least minPercent of them went to the target tablets (the rest may spill
// to other localities) and none to a tablet that must not get traffic.
func settled(t *testing.T, c *xdstest.Client, target []string, minPercent float64, none []string, headers ...string) xdstest.Counts {
	t.Helper()
	got := c.Count(editSample, headers...)
	if p := percentOn(got, target...); p < minPercent {
		t.Errorf("headers %q: %.1f%% of calls on %v, want at least %.0f%% (calls %v)", headers, p, target, minPercent, got)
	}
	for _, a := range none {
		if got[a] > 0 {
			t.Errorf("headers %q: %d calls on %s, which must get none (calls %v)", headers, got[a], a, got)
		}
	}
	return got
}

// cellShift is a cell shift of commerce's replica reads from zone1, in
// force since a minute ago.
func cellShift(steps string) func(to string) string {
	startedAt := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	return func(to string) string {
		return fmt.Sprintf(`{"keyspace":"commerce","tablet_type":"replica","from_cell":"zone1","to_cell":%q,"steps":%s,"started_at":%q}`, to, steps, startedAt)
	}
}

// TestEditCellShiftTarget: a cell shift of commerce's replica reads from
// zone1 to zone2 at 50 % is in force, and the operator edits the record's
// to_cell to zone3, same percent. For a client in zone1 the shifted half
// of the reads must leave zone2 for zone3.
func TestEditCellShiftTarget(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "commerce")
	routesTo(t, c, "zone1-0000000102", replicaMinus80...)
	shift := cellShift("[50]")
	e.put("shifts/commerce-cells", shift("zone2"))
	share(t, c, 50, []string{"zone2-0000000201"}, replicaMinus80...)

	start := e.edit("shifts/commerce-cells", shift("zone3"))
	took := movesWithin(t, c, start, 40, func(got xdstest.Counts) bool { return got["zone2-0000000201"] == 0 && got["zone3-0000000301"] > 0 },
		"some on zone3-0000000301, none on zone2-0000000201", replicaMinus80...)
	got := c.Count(2*editSample, replicaMinus80...)
	if p := percentOn(got, "zone3-0000000301"); math.Abs(p-50) > splitTolerance || !got.Only("zone1-0000000102", "zone3-0000000301") {
		t.Errorf("after to_cell zone2 -> zone3: %.1f%% on zone3-0000000301, want 50%% and the rest on zone1-0000000102 (calls %v)", p, got)
	}
	t.Logf("to_cell zone2 -> zone3 at 50%%: reads moved %v after the write; then %v", took, got)
}

// TestEditCellShiftTargetAtFullShift is issue #10 as reported: the shift
// is at 100 % and to_cell is edited from zone2 to zone3; the reads of a
// client in zone1 must go to zone3.
func TestEditCellShiftTargetAtFullShift(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "commerce")
	routesTo(t, c, "zone1-0000000102", replicaMinus80...)
	shift := cellShift("[100]")
	e.put("shifts/commerce-cells", shift("zone2"))
	routesTo(t, c, "zone2-0000000201", replicaMinus80...)

	start := e.edit("shifts/commerce-cells", shift("zone3"))
	took := movesWithin(t, c, start, 20, func(got xdstest.Counts) bool { return got.Only("zone3-0000000301") },
		"all on zone3-0000000301", replicaMinus80...)
	got := settled(t, c, []string{"zone3-0000000301"}, 90, []string{"zone1-0000000102"}, replicaMinus80...)
	t.Logf("to_cell zone2 -> zone3 at 100%%: reads moved %v after the write; then %v", took, got)
}

// TestEditKeyspaceShiftTargetAndSteps: a MoveTables-style shift of orders'
// replica reads at its first step (25 %) is pointed at another keyspace,
// then its steps are cut to [100].
func TestEditKeyspaceShiftTargetAndSteps(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "orders")
	low := []string{"x-tablet-type", "replica", "x-keyspace-id", "1000000000000000"}
	write := []string{"x-keyspace-id", "1000000000000000"}
	source := []string{"zone1-0000000401", "zone1-0000000402"}
	const orders2, commerce = "zone1-0000000502", "zone1-0000000102" // the client's zone's replicas owning the id
	routesToAnyOf(t, c, source, low...)
	startedAt := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	shift := func(to, steps string) string {
		return fmt.Sprintf(`{"keyspace":"orders","tablet_type":"replica","to_keyspace":%q,"steps":%s,"hold":"1h","started_at":%q}`, to, steps, startedAt)
	}
	e.put("shifts/orders-replica", shift("orders2", "[25,100]"))
	share(t, c, 25, []string{orders2}, low...)

	// A new target, same step: its quarter of the reads goes to commerce.
	start := e.edit("shifts/orders-replica", shift("commerce", "[25,100]"))
	took := movesWithin(t, c, start, 40, func(got xdstest.Counts) bool { return got[orders2] == 0 && got[commerce] > 0 },
		"some on "+commerce+", none on "+orders2, low...)
	got := c.Count(2*editSample, low...)
	if p := percentOn(got, commerce); math.Abs(p-25) > splitTolerance || got[orders2] > 0 || !got.Only(append(source, commerce)...) {
		t.Errorf("after to_keyspace orders2 -> commerce: %.1f%% on %s, want 25%% and the rest on %v, none on %s (calls %v)",
			p, commerce, source, orders2, got)
	}
	t.Logf("to_keyspace orders2 -> commerce: reads moved %v after the write; then %v", took, got)

	// New steps: [100] puts all replica reads on commerce at once.
	start = e.edit("shifts/orders-replica", shift("commerce", "[100]"))
	took = movesWithin(t, c, start, 20, func(got xdstest.Counts) bool { return got.Only(commerce) },
		"all on "+commerce, low...)
	got = settled(t, c, []string{commerce}, 90, append([]string{orders2}, source...), low...)
	t.Logf("steps [25,100] -> [100]: reads moved %v after the write; then %v", took, got)
	// The client holds the route configuration orders of that write, which
	// routes writes too: a replica shift leaves them on orders' primary.
	if got := c.Count(20, write...); !got.Only("zone2-0000000405") {
		t.Errorf("writes went to %v under a replica shift, want all on orders' primary zone2-0000000405", got)
	}
}

// TestEditDrainWindow: a drain of zone1 half way through its one-hour
// window leaves the cell half the reads of orders; shortening the window
// to one already past drains the cell at once.
func TestEditDrainWindow(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "orders")
	replica := []string{"x-tablet-type", "replica"}
	zone1 := []string{"zone1-0000000401", "zone1-0000000402"}
	routesToAnyOf(t, c, zone1, replica...)
	startedAt := time.Now().Add(-30 * time.Minute).UTC().Format(time.RFC3339)
	drain := func(window string) string {
		return fmt.Sprintf(`{"started_at":%q,"window":%q,"reason":"issue 10"}`, startedAt, window)
	}
	e.put("overrides/drain/zone1", drain("1h"))
	share(t, c, 50, zone1, replica...) // step 2 of 4: the cell keeps half its weight

	start := e.edit("overrides/drain/zone1", drain("20m"))
	took := movesWithin(t, c, start, 20, func(got xdstest.Counts) bool { return got.Only("zone2-0000000403") },
		"all on zone2-0000000403", replica...)
	got := settled(t, c, []string{"zone2-0000000403"}, 90, zone1, replica...)
	t.Logf("drain window 1h -> 20m (started 30m ago): reads left zone1 %v after the write; then %v", took, got)
}

// TestEditRoutingRule: a keyspace routing rule for orders@replica is
// pointed at another keyspace, then narrowed to rdonly, which gives the
// replica reads back to orders. Writes stay on orders' primary throughout.
func TestEditRoutingRule(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "orders")
	low := []string{"x-tablet-type", "replica", "x-keyspace-id", "1000000000000000"}
	write := []string{"x-keyspace-id", "1000000000000000"}
	source := []string{"zone1-0000000401", "zone1-0000000402"}
	const orders2, commerce = "zone1-0000000502", "zone1-0000000102"
	rule := func(from, to string) string {
		return fmt.Sprintf(`{"rules":[{"from_keyspace":%q,"to_keyspace":%q}]}`, from, to)
	}
	e.put("routing/keyspace_rules", rule("orders@replica", "orders2"))
	routesTo(t, c, orders2, low...)

	start := e.edit("routing/keyspace_rules", rule("orders@replica", "commerce"))
	took := movesWithin(t, c, start, 20, func(got xdstest.Counts) bool { return got.Only(commerce) },
		"all on "+commerce, low...)
	got := settled(t, c, []string{commerce}, 90, append([]string{orders2}, source...), low...)
	t.Logf("rule target orders2 -> commerce: reads moved %v after the write; then %v", took, got)
	// The client now holds the route configuration of that write: writes,
	// which the rule does not cover, are still on orders' primary.
	if got := c.Count(20, write...); !got.Only("zone2-0000000405") {
		t.Errorf("writes went to %v under a replica-only rule, want all on orders' primary zone2-0000000405", got)
	}

	start = e.edit("routing/keyspace_rules", rule("orders@rdonly", "commerce"))
	took = movesWithin(t, c, start, 20, func(got xdstest.Counts) bool { return got.Only(source...) },
		fmt.Sprintf("all on %v", source), low...)
	got = settled(t, c, source, 90, []string{orders2, commerce}, low...)
	t.Logf("rule orders@replica -> orders@rdonly: replica reads back on orders %v after the write; then %v", took, got)
}
