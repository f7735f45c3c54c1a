package e2e

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// shiftJSON is a shift of orders into orders2 for one tablet type, started
// `ago` before now, one hour per step.
func shiftJSON(typ string, steps string, ago time.Duration, extra string) string {
	return fmt.Sprintf(`{"keyspace":"orders","tablet_type":%q,"to_keyspace":"orders2","steps":%s,"hold":"1h","started_at":%q%s}`,
		typ, steps, time.Now().Add(-ago).UTC().Format(time.RFC3339), extra)
}

// share waits until the share of calls (in percent) that land on the
// given tablets is within splitTolerance of want.
func share(t *testing.T, c *xdstest.Client, want float64, tablets []string, headers ...string) {
	t.Helper()
	xdstest.Eventually(t, 15*time.Second, func() (bool, string) {
		got := c.Count(splitCalls, headers...)
		n := 0
		for _, a := range tablets {
			n += got[a]
		}
		pct := 100 * float64(n) / float64(got.Total())
		return math.Abs(pct-want) <= splitTolerance, fmt.Sprintf("%.1f%% of calls on %v, want %.0f%% (calls %v)", pct, tablets, want, got)
	})
}

// TestMoveTablesSwitchReplicaFirstThenPrimary moves keyspace orders
// (unsharded) into orders2 (sharded -80/80-) the way MoveTables switches
// traffic: replica reads first, in steps, then writes. Each keyspace id
// lands on the orders2 shard that owns it.
func TestMoveTablesSwitchReplicaFirstThenPrimary(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "orders")
	low := []string{"x-tablet-type", "replica", "x-keyspace-id", "1000000000000000"}
	high := []string{"x-tablet-type", "replica", "x-keyspace-id", "c000000000000000"}
	write := []string{"x-keyspace-id", "c000000000000000"}
	oldReplicas := []string{"zone1-0000000401", "zone1-0000000402"}
	routesToAnyOf(t, c, oldReplicas, low...)

	// Step 1 of [25, 100]: a quarter of replica reads move.
	e.put("shifts/orders-replica", shiftJSON("replica", "[25,100]", 0, ""))
	share(t, c, 25, []string{"zone1-0000000502"}, low...)
	share(t, c, 25, []string{"zone1-0000000512"}, high...)
	routesTo(t, c, "zone2-0000000405", write...) // writes have not moved

	// Step 2: all replica reads are on orders2, still split by key range.
	e.put("shifts/orders-replica", shiftJSON("replica", "[25,100]", 90*time.Minute, ""))
	routesTo(t, c, "zone1-0000000502", low...)
	routesTo(t, c, "zone1-0000000512", high...)
	routesTo(t, c, "zone2-0000000405", write...)

	// Then writes, in one step.
	e.put("shifts/orders-primary", shiftJSON("primary", "[100]", 0, ""))
	routesTo(t, c, "zone2-0000000511", write...)
	routesTo(t, c, "zone1-0000000501", "x-keyspace-id", "1000000000000000")
}

// TestShiftRollsBackWhenTargetFails: while the target keyspace has too few
// eligible replicas the shift is rolled back, and traffic returns to the
// source; aborting sends everything back too.
func TestShiftRollsBackWhenTargetFails(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "orders")
	low := []string{"x-tablet-type", "replica", "x-keyspace-id", "1000000000000000"}
	oldReplicas := []string{"zone1-0000000401", "zone1-0000000402"}
	e.put("shifts/orders-replica", shiftJSON("replica", "[100]", 0, `,"rollback_below_percent":60`))
	routesTo(t, c, "zone1-0000000502", low...)

	e.update("zone1-0000000502", map[string]any{"state": "NOT_SERVING"}) // half of orders2's replicas
	routesToAnyOf(t, c, oldReplicas, low...)

	e.update("zone1-0000000502", map[string]any{"state": "SERVING"})
	routesTo(t, c, "zone1-0000000502", low...)

	e.put("shifts/orders-replica", shiftJSON("replica", "[100]", 0, `,"aborted":true`))
	routesToAnyOf(t, c, oldReplicas, low...)
}

// TestKeyspaceRoutingRuleMovesOneTabletType applies a Vitess keyspace
// routing rule for rdonly only.
func TestKeyspaceRoutingRuleMovesOneTabletType(t *testing.T) {
	e := newEnv(t)
	e.update("zone1-0000000512", map[string]any{"type": "rdonly"})
	c := e.dial(inR1A, "orders")
	e.put("routing/keyspace_rules", `{"rules":[{"from_keyspace":"orders@rdonly","to_keyspace":"orders2"}]}`)
	routesTo(t, c, "zone1-0000000512", "x-tablet-type", "rdonly", "x-keyspace-id", "c000000000000000")
	routesToAnyOf(t, c, []string{"zone1-0000000401", "zone1-0000000402"}, "x-tablet-type", "replica")
}

func routesToAnyOf(t *testing.T, c *xdstest.Client, aliases []string, headers ...string) {
	t.Helper()
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := c.Count(40, headers...)
		return got.Only(aliases...), fmt.Sprintf("headers %q: calls went to %v, want only %v", headers, got, aliases)
	})
}
