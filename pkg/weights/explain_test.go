package weights_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// renderExplanation prints an explanation one tablet a line: targets as
// "P0 zone1-0000000001 HEALTHY w100 50.0%", then every excluded tablet as
// "- zone1-0000000002 not_serving: NOT_SERVING".
func renderExplanation(e weights.Explanation) []string {
	var out []string
	for _, t := range e.Targets {
		line := fmt.Sprintf("P%d %s %s w%d %.1f%%", t.Priority, t.Alias, t.Health, t.Weight, 100*t.Share)
		if t.Note != "" {
			line += " (" + t.Note + ")"
		}
		out = append(out, line)
	}
	for _, d := range e.Excluded {
		out = append(out, fmt.Sprintf("- %s %s: %s", d.Alias, d.Reason, d.Detail))
	}
	return out
}

// buildLoose is build that keeps invalid records as problems of the
// topology instead of failing the test.
func buildLoose(recs ...rec) *topology.Topology {
	b := topology.NewBuilder()
	for _, r := range recs {
		_ = b.Put(r.key, []byte(r.val))
	}
	return b.Build(1)
}

// TestExplain covers every reason a tablet gets nothing, and the targets'
// order, weights and shares for both client kinds.
func TestExplain(t *testing.T) {
	p1, p2 := alias("zone1", 1), alias("zone2", 2)
	r1, r2, r3 := alias("zone1", 11), alias("zone2", 12), alias("zone3", 13)
	cases := map[string]struct {
		recs   []rec
		class  weights.Class
		kind   weights.ClientKind // KindEnvoy when empty
		client weights.Locality   // clientR1A when empty
		tenant string
		want   []string
	}{
		"zone first, then region, other regions last": {
			recs:  []rec{tablet(r1, "replica"), tablet(r2, "replica"), tablet(r3, "replica"), tablet(p1, "primary", term(1))},
			class: weights.ClassReplica,
			want: []string{
				"P0 " + r1 + " HEALTHY w100 100.0%", "P1 " + r2 + " HEALTHY w100 0.0%", "P2 " + r3 + " HEALTHY w100 0.0%",
				"- " + p1 + " type: primary tablet: not in class replica",
			},
		},
		"NOT_SERVING spills in proportion (Envoy)": {
			recs:  []rec{tablet(r1, "replica", `"state":"NOT_SERVING"`), tablet(alias("zone1", 21), "replica"), tablet(r2, "replica")},
			class: weights.ClassReplica,
			want: []string{
				"P0 zone1-0000000021 HEALTHY w100 70.0%", "P1 " + r2 + " HEALTHY w100 30.0%",
				"- " + r1 + " not_serving: NOT_SERVING",
			},
		},
		"the same for gRPC: flattened shares": {
			recs:  []rec{tablet(r1, "replica", `"state":"NOT_SERVING"`), tablet(alias("zone1", 21), "replica"), tablet(r2, "replica")},
			class: weights.ClassReplica,
			kind:  weights.KindGRPC,
			want: []string{
				"P0 zone1-0000000021 HEALTHY w100 70.0%", "P0 " + r2 + " HEALTHY w100 30.0%",
				"- " + r1 + " not_serving: NOT_SERVING",
			},
		},
		"lag above lag.max": {
			recs: []rec{policy(`{"lag":{"degraded":"10s","max":"30s","min_serving":1}}`),
				tablet(r1, "replica", lag(45)), tablet(r2, "replica", lag(1))},
			class: weights.ClassReplica,
			want:  []string{"P1 " + r2 + " HEALTHY w100 100.0%", "- " + r1 + " lag: lag 45s > lag.max 30s"},
		},
		"lag above lag.max kept by min_serving": {
			recs:  []rec{policy(`{"lag":{"degraded":"10s","max":"30s","min_serving":1}}`), tablet(r1, "replica", lag(45))},
			class: weights.ClassReplica,
			kind:  weights.KindGRPC,
			want:  []string{"P0 " + r1 + " HEALTHY w10 100.0% (lag 45s > lag.max 30s, kept by lag.min_serving 1; degraded: lag 45s > lag.degraded 10s)"},
		},
		"schema not accepted": {
			recs:  []rec{policy(`{"schema_versions":["v42"]}`), tablet(r1, "replica", `"schema_version":"v41"`), tablet(r2, "replica", `"schema_version":"v42"`)},
			class: weights.ClassReplica,
			want:  []string{"P1 " + r2 + " HEALTHY w100 100.0%", "- " + r1 + " schema: schema v41 not in [v42]"},
		},
		"health error": {
			recs:  []rec{tablet(r1, "replica", `"health_error":"mysqld down"`)},
			class: weights.ClassReplica,
			want:  []string{"- " + r1 + " health_error: health_error: mysqld down"},
		},
		"older primary term is fenced": {
			recs:  []rec{tablet(p1, "primary", term(1)), tablet(p2, "primary", term(2))},
			class: weights.ClassPrimary,
			want:  []string{"P0 " + p2 + " HEALTHY w100 100.0%", "- " + p1 + " fenced: older primary term (fenced)"},
		},
		"drained cell": {
			recs:  []rec{{"overrides/drain/zone1", `{"reason":"maintenance"}`}, tablet(r1, "replica"), tablet(r2, "replica")},
			class: weights.ClassReplica,
			want:  []string{"P1 " + r2 + " HEALTHY w100 100.0%", "- " + r1 + " cell_drained: cell zone1 drained (maintenance)"},
		},
		"read-after-write: primary first, async replicas never": {
			recs: []rec{tablet(p1, "primary", term(1)), tablet(r1, "replica"), tablet(r2, "replica", `"replication":"async"`),
				tablet(r3, "replica", lag(5)), tablet(alias("zone1", 31), "rdonly")},
			class: weights.ClassReadAfterWrite,
			want: []string{
				"P0 " + p1 + " HEALTHY w100 100.0%", "P1 " + r1 + " HEALTHY w100 0.0%",
				"- zone1-0000000031 type: rdonly tablet: not in class read-after-write",
				"- " + r2 + " async_replica: async replica: read-after-write",
				"- " + r3 + " read_after_write_lag: lag 5s > read_after_write_max_lag 1s",
			},
		},
		"another tenant's keyspace": {
			recs:   []rec{policy(`{"tenant":"acme"}`), tablet(r1, "replica")},
			class:  weights.ClassReplica,
			tenant: "globex",
			want:   []string{"- " + r1 + " tenant: tenant: keyspace ks belongs to tenant acme"},
		},
		"the tenant's own keyspace": {
			recs:   []rec{policy(`{"tenant":"acme"}`), tablet(r1, "replica")},
			class:  weights.ClassReplica,
			tenant: "acme",
			want:   []string{"P0 " + r1 + " HEALTHY w100 100.0%"},
		},
		"invalid record names the shard": {
			recs:  []rec{tablet(r1, "replica"), tablet(r2, "replica", `"port_map":{"grpc":70000}`)},
			class: weights.ClassReplica,
			want:  []string{"P0 " + r1 + " HEALTHY w100 100.0%", "- " + r2 + " invalid_record: invalid record: tablet " + r2 + ": port_map.grpc: 70000 out of range"},
		},
		"cross_region off leaves other regions out": {
			recs:  []rec{policy(`{"failover":{"cross_region":false}}`), tablet(r1, "replica"), tablet(r3, "replica")},
			class: weights.ClassReplica,
			want:  []string{"P0 " + r1 + " HEALTHY w100 100.0%", "- " + r3 + " region: region r2: failover.cross_region is off"},
		},
		"no port for the keyspace's port name": {
			recs:  []rec{tablet(r1, "replica", `"port_map":{"mysql":3306}`)},
			class: weights.ClassReplica,
			want:  []string{"- " + r1 + " no_port: no port_map.grpc"},
		},
		"a cell drain under way reduces the weight": {
			recs: []rec{{"overrides/drain/zone1", `{"started_at":"` + now.Add(-30*time.Second).Format(time.RFC3339) + `","window":"2m"}`},
				tablet(r1, "replica"), tablet(r2, "replica")},
			class: weights.ClassReplica,
			kind:  weights.KindGRPC,
			// Step 2 of 4: 75% of zone1's weight; zone2 joins its tier.
			want: []string{"P0 " + r2 + " HEALTHY w100 57.1%", "P0 " + r1 + " HEALTHY w75 42.9% (cell zone1 draining: step 2 of 4, 75% of its weight)"},
		},
		"a completed cell shift": {
			recs: []rec{{"shifts/evac", `{"keyspace":"ks","tablet_type":"replica","from_cell":"zone1","to_cell":"zone2","steps":[100],"hold":"1m","started_at":"` +
				now.Add(-time.Minute).Format(time.RFC3339) + `"}`}, tablet(r1, "replica"), tablet(r2, "replica")},
			class: weights.ClassReplica,
			// zone2 takes zone1's place: a zone1 client reads from it first (P0).
			want: []string{"P0 " + r2 + " HEALTHY w100 100.0%", "- " + r1 + " shifted: shift evac moved the reads of cell zone1 to zone2"},
		},
		"DRAINING tablet": {
			recs:  []rec{tablet(r1, "replica", `"state":"DRAINING"`), tablet(r2, "replica")},
			class: weights.ClassReplica,
			want:  []string{"P1 " + r2 + " HEALTHY w100 100.0%", "- " + r1 + " draining: DRAINING"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			topo := buildLoose(append(cells(), c.recs...)...)
			kind, client := c.kind, c.client
			if kind == "" {
				kind = weights.KindEnvoy
			}
			if client == noClient {
				client = clientR1A
			}
			s := topo.Shards[topology.ShardKey{Keyspace: testKeyspace, Shard: testShard}]
			req := weights.Query{Topology: topo, Shard: s, Class: c.class, Client: client, Kind: kind, Now: now}
			e := weights.Explain(req, c.tenant)
			if diff := cmp.Diff(c.want, renderExplanation(e)); diff != "" {
				t.Errorf("explanation (-want +got):\n%s", diff)
			}
			// Explain and Assign are one code path: every tablet the
			// assignment lets take requests is a target, and no other.
			if c.tenant != "" {
				return
			}
			usable := map[string]bool{}
			for _, l := range weights.Assign(weights.Request{Inputs: weights.Resolve(req.Topology, req.Shard, req.Now), Class: req.Class, Client: req.Client, Kind: req.Kind}).Localities {
				for _, ep := range l.Endpoints {
					if ep.Health == weights.Healthy || ep.Health == weights.Degraded {
						usable[ep.Alias] = true
					}
				}
			}
			for _, tg := range e.Targets {
				if !usable[tg.Alias] {
					t.Errorf("target %s is not usable in the assignment", tg.Alias)
				}
				delete(usable, tg.Alias)
			}
			if len(usable) > 0 {
				t.Errorf("usable endpoints %v are not targets", usable)
			}
		})
	}
}
