package weights_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/pkg/weights"
)

// drainRec is an operator's drain of a cell that started `ago` before now.
func drainRec(cell string, ago time.Duration, window string) rec {
	return rec{"overrides/drain/" + cell, fmt.Sprintf(`{"started_at":%q,"window":%q}`, now.Add(-ago).Format(time.RFC3339), window)}
}

// TestCellOverrides covers drain and prefer: a drain moves reads out of a
// cell in steps over its window, then leaves its tablets DRAINING; prefer
// puts a cell first for every client.
func TestCellOverrides(t *testing.T) {
	z1b := alias("zone1", 11)
	base := []rec{tablet(z1, "replica"), tablet(z1b, "replica"), tablet(z2, "replica"), tablet(z3, "replica")}
	cases := map[string]struct {
		recs  []rec
		envoy []string
		grpc  []string
	}{
		"no override: the client's zone first": {
			recs:  base,
			envoy: []string{"P0 zone1 w200: " + z1 + " HEALTHY/100, " + z1b + " HEALTHY/100", healthy("P1", "zone2", z2), healthy("P2", "zone3", z3)},
			grpc:  []string{"P0 " + z1 + " 50.0%", "P0 " + z1b + " 50.0%", "P1 " + z2, "P2 " + z3},
		},
		"drain half way: the cell shares the next tier at half weight": {
			recs: append(base, drainRec("zone1", 20*time.Minute, "40m")),
			envoy: []string{"P0 zone1 w100: " + z1 + " HEALTHY/50, " + z1b + " HEALTHY/50", healthy("P0", "zone2", z2),
				healthy("P1", "zone3", z3)},
			grpc: []string{"P0 " + z1 + " 25.0%", "P0 " + z1b + " 25.0%", "P0 " + z2 + " 50.0%", "P1 " + z3},
		},
		"drain a quarter in": {
			recs:  append(base, drainRec("zone1", 10*time.Minute, "40m")),
			envoy: []string{"P0 zone1 w150: " + z1 + " HEALTHY/75, " + z1b + " HEALTHY/75", healthy("P0", "zone2", z2), healthy("P1", "zone3", z3)},
			grpc:  []string{"P0 " + z1 + " 30.0%", "P0 " + z1b + " 30.0%", "P0 " + z2 + " 40.0%", "P1 " + z3},
		},
		"drain done: the cell's tablets are DRAINING": {
			recs: append(base, drainRec("zone1", time.Hour, "40m")),
			envoy: []string{"P0 zone1 w200: " + z1 + " DRAINING/100, " + z1b + " DRAINING/100", healthy("P1", "zone2", z2),
				healthy("P2", "zone3", z3)},
			grpc: []string{"P0 " + z2 + " 100.0%", "P1 " + z3},
		},
		"drain without a window is immediate": {
			recs:  append(base, rec{"overrides/drain/zone1", `{"reason":"AZ incident"}`}),
			envoy: []string{"P0 zone1 w200: " + z1 + " DRAINING/100, " + z1b + " DRAINING/100", healthy("P1", "zone2", z2), healthy("P2", "zone3", z3)},
			grpc:  []string{"P0 " + z2 + " 100.0%", "P1 " + z3},
		},
		"prefer a cell in another region": {
			recs:  append(base, rec{"overrides/prefer/" + testKeyspace, `{"cell":"zone3"}`}),
			envoy: []string{healthy("P0", "zone3", z3), "P1 zone1 w200: " + z1 + " HEALTHY/100, " + z1b + " HEALTHY/100", healthy("P2", "zone2", z2)},
			grpc:  []string{"P0 " + z3 + " 100.0%", "P1 " + z1, "P1 " + z1b, "P2 " + z2},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			topo := build(t, append(cells(), tc.recs...)...)
			checkAssignment(t, assign(t, topo, weights.ClassReplica, clientR1A, weights.KindEnvoy), tc.envoy)
			checkGRPC(t, assign(t, topo, weights.ClassReplica, clientR1A, weights.KindGRPC), tc.grpc)
		})
	}
}

// TestDrainStepsAreScheduled: the next rebuild time falls on the drain's
// next step.
func TestDrainStepsAreScheduled(t *testing.T) {
	topo := build(t, append(cells(), tablet(z1, "replica"), drainRec("zone1", 5*time.Minute, "40m"))...)
	next, ok := weights.NextPhaseChange(topo, now)
	if want := now.Add(5 * time.Minute); !ok || !next.Equal(want) {
		t.Errorf("next change at %v (%v), want %v", next, ok, want)
	}
}

// TestCellShift moves a quarter, then all, of the reads from the client's
// cell to another cell of its region.
func TestCellShift(t *testing.T) {
	z1b := alias("zone1", 11)
	base := []rec{tablet(z1, "replica"), tablet(z1b, "replica"), tablet(z2, "replica"), tablet(z3, "replica")}
	cellShift := func(steps string, ago time.Duration, extra string) rec {
		return rec{"shifts/cells", fmt.Sprintf(`{"keyspace":%q,"tablet_type":"replica","from_cell":"zone1","to_cell":"zone2",
			"steps":%s,"hold":"1h","started_at":%q%s}`, testKeyspace, steps, now.Add(-ago).Format(time.RFC3339), extra)}
	}
	cases := map[string]struct {
		recs []rec
		grpc []string
	}{
		"25%: zone2 joins zone1's priority with a quarter of zone1's weight": {
			recs: append(base, cellShift("[25,100]", 0, "")),
			grpc: []string{"P0 " + z1 + " 37.5%", "P0 " + z1b + " 37.5%", "P0 " + z2 + " 25.0%", "P1 " + z3},
		},
		"100%: zone1 drains into zone2": {
			recs: append(base, cellShift("[25,100]", 2*time.Hour, "")),
			grpc: []string{"P0 " + z2 + " 100.0%", "P1 " + z3},
		},
		"rolled back while zone2 has too little eligible": {
			recs: []rec{tablet(z1, "replica"), tablet(z1b, "replica"), tablet(z2, "replica", `"state":"NOT_SERVING"`), tablet(z3, "replica"),
				cellShift("[25,100]", 0, `,"rollback_below_percent":50`)},
			grpc: []string{"P0 " + z1 + " 50.0%", "P0 " + z1b + " 50.0%", "P1 " + z3},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			topo := build(t, append(cells(), tc.recs...)...)
			checkGRPC(t, assign(t, topo, weights.ClassReplica, clientR1A, weights.KindGRPC), tc.grpc)
			envoy := assign(t, topo, weights.ClassReplica, clientR1A, weights.KindEnvoy)
			grpcShares := map[string]float64{}
			for _, l := range assign(t, topo, weights.ClassReplica, clientR1A, weights.KindGRPC).Localities {
				if l.Priority == 0 {
					grpcShares[l.Cell] = float64(l.Weight) / 1e6
				}
			}
			for alias, want := range weights.EnvoySplit(envoy) {
				if d := grpcShares[alias] - want; d > 0.001 || d < -0.001 {
					t.Errorf("%s: gRPC share %.3f, Envoy's split %.3f", alias, grpcShares[alias], want)
				}
			}
		})
	}
}
