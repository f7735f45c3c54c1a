package weights_test

import (
	"testing"

	"github.com/shardmesh/shardmesh/pkg/weights"
)

func TestRankCells(t *testing.T) {
	p := alias("zone1", 1)
	r2a, r2b, r3 := alias("zone2", 2), alias("zone2", 3), alias("zone3", 4)
	cases := map[string]struct {
		recs      []rec
		order     []string
		candidate string
	}{
		"the cell with most eligible capacity wins; its least-lagged semi-sync replica is the candidate": {
			recs: []rec{tablet(p, "primary", term(10)), tablet(r2a, "replica", lag(2)), tablet(r2b, "replica", lag(1)),
				tablet(r3, "replica")},
			order: []string{"zone2", "zone3", "zone1"}, candidate: r2b,
		},
		"error signals break capacity ties": {
			recs: []rec{tablet(p, "primary", term(10)), tablet(r2a, "replica"), tablet(r2b, "replica", `"state":"NOT_SERVING"`),
				tablet(r3, "replica")},
			order: []string{"zone3", "zone2", "zone1"}, candidate: r3,
		},
		"async replicas are candidates only without semi-sync ones": {
			recs:  []rec{tablet(p, "primary", term(10)), tablet(r2a, "replica", `"replication":"async"`), tablet(r2b, "replica", lag(5), `"weight":200`)},
			order: []string{"zone2", "zone1"}, candidate: r2b,
		},
		"the primary already in the best cell: no move": {
			recs:  []rec{tablet(p, "primary", term(10)), tablet(alias("zone1", 5), "replica", `"weight":500`), tablet(r3, "replica")},
			order: []string{"zone1", "zone3"},
		},
		"a drained cell ranks last": {
			recs:  []rec{tablet(p, "primary", term(10)), tablet(r2a, "replica", `"weight":900`), tablet(r3, "replica"), {"overrides/drain/zone2", `{}`}},
			order: []string{"zone3", "zone1", "zone2"}, candidate: r3,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			topo := build(t, append(cells(), tc.recs...)...)
			var shard = topo.ShardsOf(testKeyspace)[0]
			got := weights.RankCells(topo, shard, now)
			var order []string
			for _, c := range got.Cells {
				order = append(order, c.Cell)
			}
			if len(order) != len(tc.order) {
				t.Fatalf("cells %v, want %v", order, tc.order)
			}
			for i := range order {
				if order[i] != tc.order[i] {
					t.Fatalf("cells %v, want %v", order, tc.order)
				}
			}
			if got.Candidate != tc.candidate {
				t.Errorf("candidate %q, want %q (advice %q)", got.Candidate, tc.candidate, got.Advice)
			}
		})
	}
}
