package weights_test

import (
	"testing"

	"github.com/shardmesh/shardmesh/pkg/weights"
)

// One healthy replica in each cell, and one in zone9, a cell the topology
// does not know.
var (
	z1 = "zone1-0000000001" // r1/r1a
	z2 = "zone2-0000000002" // r1/r1b
	z3 = "zone3-0000000003" // r2/r2a
	z4 = "zone4-0000000004" // r3/r3a
	z9 = "zone9-0000000009" // unknown cell
)

func everyCell() []rec {
	return []rec{tablet(z1, "replica"), tablet(z2, "replica"), tablet(z3, "replica"), tablet(z4, "replica"), tablet(z9, "replica")}
}

// TestPriorities covers the priority of each locality relative to the
// client: its zone, its region, other regions (in failover.region_order
// when given), then cells the topology does not know; priorities are
// contiguous from 0 whichever tiers are empty.
func TestPriorities(t *testing.T) {
	cases := map[string]struct {
		policy string
		recs   []rec // everyCell() when nil
		client weights.Locality
		want   []string
		grpc   []string // renderGRPC of the gRPC assignment; nil when it is empty
	}{
		"zone, region, other regions by name, unknown cells last": {
			client: clientR1A,
			want: []string{healthy("P0", "zone1", z1), healthy("P1", "zone2", z2), healthy("P2", "zone3", z3),
				healthy("P3", "zone4", z4), healthy("P4", "zone9", z9)},
			grpc: []string{"P0 zone1-0000000001 100.0%", "P1 zone2-0000000002", "P2 zone3-0000000003", "P3 zone4-0000000004", "P4 zone9-0000000009"},
		},
		"region_order orders other regions": {
			policy: `{"failover":{"region_order":{"r1":["r3","r2"]}}}`,
			client: clientR1A,
			want: []string{healthy("P0", "zone1", z1), healthy("P1", "zone2", z2), healthy("P2", "zone4", z4),
				healthy("P3", "zone3", z3), healthy("P4", "zone9", z9)},
			grpc: []string{"P0 zone1-0000000001 100.0%", "P1 zone2-0000000002", "P2 zone4-0000000004", "P3 zone3-0000000003", "P4 zone9-0000000009"},
		},
		"regions missing from region_order come after the listed ones": {
			policy: `{"failover":{"region_order":{"r1":["r3"]}}}`,
			client: clientR1A,
			want: []string{healthy("P0", "zone1", z1), healthy("P1", "zone2", z2), healthy("P2", "zone4", z4),
				healthy("P3", "zone3", z3), healthy("P4", "zone9", z9)},
			grpc: []string{"P0 zone1-0000000001 100.0%", "P1 zone2-0000000002", "P2 zone4-0000000004", "P3 zone3-0000000003", "P4 zone9-0000000009"},
		},
		"region_order of another client region does not apply": {
			policy: `{"failover":{"region_order":{"r2":["r3","r1"]}}}`,
			client: clientR1A,
			want: []string{healthy("P0", "zone1", z1), healthy("P1", "zone2", z2), healthy("P2", "zone3", z3),
				healthy("P3", "zone4", z4), healthy("P4", "zone9", z9)},
			grpc: []string{"P0 zone1-0000000001 100.0%", "P1 zone2-0000000002", "P2 zone3-0000000003", "P3 zone4-0000000004", "P4 zone9-0000000009"},
		},
		"cross_region false omits other regions": {
			policy: `{"failover":{"cross_region":false}}`,
			recs:   []rec{tablet(z1, "replica"), tablet(z2, "replica"), tablet(z3, "replica"), tablet(z4, "replica")},
			client: clientR1A,
			want:   []string{healthy("P0", "zone1", z1), healthy("P1", "zone2", z2)},
			grpc:   []string{"P0 zone1-0000000001 100.0%", "P1 zone2-0000000002"},
		},
		"cross_region false with only other regions is empty": {
			policy: `{"failover":{"cross_region":false}}`,
			recs:   []rec{tablet(z3, "replica"), tablet(z4, "replica")},
			client: clientR1A,
			want:   nil,
		},
		"empty zone tier: the region is priority 0": {
			client: weights.Locality{Region: "r1", Zone: "r1c"},
			want: []string{healthy("P0", "zone1", z1), healthy("P0", "zone2", z2), healthy("P1", "zone3", z3),
				healthy("P2", "zone4", z4), healthy("P3", "zone9", z9)},
			grpc: []string{"P0 zone1-0000000001 50.0%", "P0 zone2-0000000002 50.0%", "P1 zone3-0000000003", "P2 zone4-0000000004", "P3 zone9-0000000009"},
		},
		"empty region tier: other regions follow the zone": {
			client: clientR2A,
			want: []string{healthy("P0", "zone3", z3), healthy("P1", "zone1", z1), healthy("P1", "zone2", z2),
				healthy("P2", "zone4", z4), healthy("P3", "zone9", z9)},
			grpc: []string{"P0 zone3-0000000003 100.0%", "P1 zone1-0000000001", "P1 zone2-0000000002", "P2 zone4-0000000004", "P3 zone9-0000000009"},
		},
		"only far tablets: priorities still start at 0": {
			recs:   []rec{tablet(z4, "replica"), tablet(z9, "replica")},
			client: clientR1A,
			want:   []string{healthy("P0", "zone4", z4), healthy("P1", "zone9", z9)},
			grpc:   []string{"P0 zone4-0000000004 100.0%", "P1 zone9-0000000009"},
		},
		"client in a region the topology does not know": {
			client: weights.Locality{Region: "r7", Zone: "r7a"},
			want: []string{healthy("P0", "zone1", z1), healthy("P0", "zone2", z2), healthy("P1", "zone3", z3),
				healthy("P2", "zone4", z4), healthy("P3", "zone9", z9)},
			grpc: []string{"P0 zone1-0000000001 50.0%", "P0 zone2-0000000002 50.0%", "P1 zone3-0000000003", "P2 zone4-0000000004", "P3 zone9-0000000009"},
		},
		"no client locality: a single priority": {
			client: noClient,
			want: []string{healthy("P0", "zone9", z9), healthy("P0", "zone1", z1), healthy("P0", "zone2", z2),
				healthy("P0", "zone3", z3), healthy("P0", "zone4", z4)},
			grpc: []string{"P0 zone9-0000000009 20.0%", "P0 zone1-0000000001 20.0%", "P0 zone2-0000000002 20.0%", "P0 zone3-0000000003 20.0%", "P0 zone4-0000000004 20.0%"},
		},
		"unhealthy tablets keep their tier": {
			recs:   []rec{tablet(z1, "replica", `"state":"NOT_SERVING"`), tablet(z3, "replica")},
			client: clientR1A,
			want:   []string{"P0 zone1 w100: " + z1 + " UNHEALTHY/100", healthy("P1", "zone3", z3)},
			grpc:   []string{"P0 zone3-0000000003 100.0%"},
		},
		"several tablets of a cell share a locality": {
			recs: []rec{tablet(z1, "replica"), tablet("zone1-0000000011", "replica", `"weight":50`),
				tablet(z2, "replica")},
			client: clientR1A,
			want:   []string{"P0 zone1 w150: " + z1 + " HEALTHY/100, zone1-0000000011 HEALTHY/50", healthy("P1", "zone2", z2)},
			grpc:   []string{"P0 zone1-0000000001 66.7%", "P0 zone1-0000000011 33.3%", "P1 zone2-0000000002"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			recs := append(cells(), tc.recs...)
			if tc.recs == nil {
				recs = append(recs, everyCell()...)
			}
			if tc.policy != "" {
				recs = append(recs, policy(tc.policy))
			}
			topo := build(t, recs...)
			checkAssignment(t, assign(t, topo, weights.ClassReplica, tc.client, weights.KindEnvoy), tc.want)
			checkGRPC(t, assign(t, topo, weights.ClassReplica, tc.client, weights.KindGRPC), tc.grpc)
		})
	}
}

// TestRdonlyFollowsReplicaPriorities checks that the rdonly class uses the
// same placement as the replica class, for rdonly tablets only.
func TestRdonlyFollowsReplicaPriorities(t *testing.T) {
	topo := build(t, append(cells(),
		tablet(z1, "replica"), tablet("zone1-0000000011", "rdonly"), tablet("zone3-0000000033", "rdonly"))...)
	checkAssignment(t, assign(t, topo, weights.ClassRdonly, clientR1A, weights.KindEnvoy), []string{
		"P0 zone1 w100: zone1-0000000011 HEALTHY/100",
		"P1 zone3 w100: zone3-0000000033 HEALTHY/100",
	})
	checkAssignment(t, assign(t, topo, weights.ClassReplica, clientR1A, weights.KindEnvoy), []string{
		"P0 zone1 w100: " + z1 + " HEALTHY/100",
	})
}

// TestUnknownCellWithCrossRegionOff: a tablet in a cell the topology does
// not know may well be in another region, so with cross_region off it
// does not receive the client's reads.
func TestUnknownCellWithCrossRegionOff(t *testing.T) {
	topo := build(t, append(cells(), policy(`{"failover":{"cross_region":false}}`), tablet(z1, "replica"), tablet(z9, "replica"))...)
	got := assign(t, topo, weights.ClassReplica, clientR1A, weights.KindEnvoy)
	if len(got.Localities) != 1 {
		t.Fatalf("a tablet of unknown region is routed with cross_region=false: %q", render(got))
	}
	checkAssignment(t, got, []string{"P0 zone1 w100: " + z1 + " HEALTHY/100"})
}
