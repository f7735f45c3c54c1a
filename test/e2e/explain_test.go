package e2e

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// TestExplainPredictsMeasuredSplit: what /debug/explain says a grpc-go
// client in r1a does with replica reads of orders/0 is what a real one
// does. One of the two local replicas is NOT_SERVING and the other
// region's replica lags past lag.max: explain gives 70% to the local
// replica, 30% to the region's other zone and names both reasons, and the
// calls a grpc-go xDS client makes split the same way.
func TestExplainPredictsMeasuredSplit(t *testing.T) {
	e := newEnv(t)
	e.put("keyspaces/orders", `{"lag":{"degraded":"10s","max":"30s","min_serving":1}}`)
	e.update("zone1-0000000402", map[string]any{"state": "NOT_SERVING"})
	e.update("zone3-0000000404", map[string]any{"replication_lag_seconds": 45})
	waitRevision(t, e)
	var x weights.Explanation
	e.admin("/debug/explain?keyspace=orders&type=replica&region=r1&zone=r1a&kind=grpc", &x)
	shares := map[string]float64{}
	for _, tg := range x.Targets {
		shares[tg.Alias] = tg.Share
	}
	if math.Abs(shares["zone1-0000000401"]-0.7) > 0.001 || math.Abs(shares["zone2-0000000403"]-0.3) > 0.001 || len(shares) != 2 {
		t.Fatalf("explain shares %v, want zone1-0000000401 70%%, zone2-0000000403 30%%", shares)
	}
	why := map[string]string{}
	for _, d := range x.Excluded {
		why[d.Alias] = d.Detail
	}
	if why["zone1-0000000402"] != "NOT_SERVING" || why["zone3-0000000404"] != "lag 45s > lag.max 30s" {
		t.Errorf("explain reasons %v", why)
	}

	c := e.dial(inR1A, "orders")
	xdstest.Eventually(t, 15*time.Second, func() (bool, string) {
		got := c.Count(splitCalls, "x-tablet-type", "replica")
		for alias := range got {
			if _, ok := shares[alias]; !ok {
				return false, fmt.Sprintf("calls reached %s, which explain excludes (calls %v)", alias, got)
			}
		}
		for alias, share := range shares {
			measured := 100 * float64(got[alias]) / float64(got.Total())
			if math.Abs(measured-100*share) > splitTolerance {
				return false, fmt.Sprintf("%s: measured %.1f%%, explain %.1f%% (calls %v)", alias, measured, 100*share, got)
			}
		}
		t.Logf("explain %v; a grpc-go client measured %v", shares, got)
		return true, ""
	})
}
