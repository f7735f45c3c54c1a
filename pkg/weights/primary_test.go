package weights_test

import (
	"testing"

	"github.com/shardmesh/shardmesh/pkg/weights"
)

const (
	p1 = "zone1-0000000100" // primary in the client's zone
	p2 = "zone2-0000000200" // primary in the client's region
	p3 = "zone3-0000000300" // primary in another region
)

// TestPrimaryClass covers the write path: the newest-term primary only,
// older terms fenced, no fallback to replicas, locality ignored.
func TestPrimaryClass(t *testing.T) {
	replicas := []rec{tablet(z1, "replica"), tablet(z2, "replica")}
	cases := map[string]struct {
		recs  []rec
		noLoc bool     // a client with no locality; else clientR1A
		want  []string // for Envoy
		grpc  []string // renderGRPC of the gRPC assignment; nil when it is empty
	}{
		"the primary and no replica": {
			recs: append([]rec{tablet(p2, "primary", term(10))}, replicas...),
			want: []string{"P0 zone2 w100: " + p2 + " HEALTHY/100"},
			grpc: []string{"P0 zone2-0000000200 100.0%"},
		},
		"a primary in another region is still priority 0": {
			recs: append([]rec{policy(`{"failover":{"cross_region":false}}`), tablet(p3, "primary", term(10))}, replicas...),
			want: []string{"P0 zone3 w100: " + p3 + " HEALTHY/100"},
			grpc: []string{"P0 zone3-0000000300 100.0%"},
		},
		"no client locality": {
			recs:  []rec{tablet(p3, "primary", term(10))},
			noLoc: true,
			want:  []string{"P0 zone3 w100: " + p3 + " HEALTHY/100"},
			grpc:  []string{"P0 zone3-0000000300 100.0%"},
		},
		"newest term wins, older SERVING primary is fenced": {
			recs: []rec{tablet(p1, "primary", term(10)), tablet(p2, "primary", term(11))},
			want: []string{"P0 zone1 w100: " + p1 + " UNHEALTHY/100", "P0 zone2 w100: " + p2 + " HEALTHY/100"},
			grpc: []string{"P0 zone2-0000000200 100.0%"},
		},
		"newest term wins whatever the alias order": {
			recs: []rec{tablet(p1, "primary", term(11)), tablet(p2, "primary", term(10))},
			want: []string{"P0 zone1 w100: " + p1 + " HEALTHY/100", "P0 zone2 w100: " + p2 + " UNHEALTHY/100"},
			grpc: []string{"P0 zone1-0000000100 100.0%"},
		},
		"older DRAINING primary is draining": {
			recs: []rec{tablet(p1, "primary", term(10), `"state":"DRAINING"`), tablet(p2, "primary", term(11))},
			want: []string{"P0 zone1 w100: " + p1 + " DRAINING/100", "P0 zone2 w100: " + p2 + " HEALTHY/100"},
			grpc: []string{"P0 zone2-0000000200 100.0%"},
		},
		"new primary not yet serving: the old one stays fenced": {
			recs: []rec{tablet(p1, "primary", term(10)), tablet(p2, "primary", term(11), `"state":"NOT_SERVING"`)},
			want: []string{"P0 zone1 w100: " + p1 + " UNHEALTHY/100", "P0 zone2 w100: " + p2 + " UNHEALTHY/100"},
		},
		"new primary with a health error: no fallback": {
			recs: append([]rec{tablet(p1, "primary", term(10)), tablet(p2, "primary", term(11), `"health_error":"disk full"`)}, replicas...),
			want: []string{"P0 zone1 w100: " + p1 + " UNHEALTHY/100", "P0 zone2 w100: " + p2 + " UNHEALTHY/100"},
		},
		"primary of a schema version not accepted": {
			recs: []rec{policy(`{"schema_versions":["v2"]}`), tablet(p1, "primary", term(10))},
			want: []string{"P0 zone1 w100: " + p1 + " UNHEALTHY/100"},
		},
		"primary lag does not matter": {
			recs: []rec{policy(`{"lag":{"degraded":"1s","max":"2s","min_serving":0}}`), tablet(p1, "primary", term(10), lag(60))},
			want: []string{"P0 zone1 w100: " + p1 + " HEALTHY/100"},
			grpc: []string{"P0 zone1-0000000100 100.0%"},
		},
		"no primary: an empty assignment, never a replica": {
			recs: replicas,
			want: nil,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			client := clientR1A
			if tc.noLoc {
				client = noClient
			}
			topo := build(t, append(cells(), tc.recs...)...)
			checkAssignment(t, assign(t, topo, weights.ClassPrimary, client, weights.KindEnvoy), tc.want)
			checkGRPC(t, assign(t, topo, weights.ClassPrimary, client, weights.KindGRPC), tc.grpc)
		})
	}
}

// TestUnaddressableNewerPrimaryStillFences: a newer-term primary whose
// record lacks the keyspace's port still ends the older primary's term. The
// older primary must stay fenced, or writes go to a demoted tablet.
func TestUnaddressableNewerPrimaryStillFences(t *testing.T) {
	topo := build(t, append(cells(),
		tablet(p1, "primary", term(10)),
		tablet(p2, "primary", term(11), `"port_map":{"mysql":3306}`))...)
	got := assign(t, topo, weights.ClassPrimary, clientR1A, weights.KindEnvoy)
	if got.Usable() != 0 {
		t.Fatalf("the older primary is un-fenced when the newest one has no %q port: %q", "grpc", render(got))
	}
}

// TestReadAfterWrite covers the read-after-write class: the primary at
// priority 0, then semi-sync replicas within read_after_write_max_lag,
// nearest first; async replicas never.
func TestReadAfterWrite(t *testing.T) {
	semi := func(a string, seconds float64) rec { return tablet(a, "replica", lag(seconds)) }
	async := func(a string) rec { return tablet(a, "replica", `"replication":"async"`) }
	cases := map[string]struct {
		recs  []rec
		noLoc bool // a client with no locality; else clientR1A
		want  []string
	}{
		"primary first, then semi-sync replicas nearest first": {
			recs: []rec{tablet(p3, "primary", term(10)), semi(z1, 0.2), semi(z2, 0.5), semi(z4, 0)},
			want: []string{"P0 zone3 w100: " + p3 + " HEALTHY/100", "P1 zone1 w100: " + z1 + " HEALTHY/100",
				"P2 zone2 w100: " + z2 + " HEALTHY/100", "P3 zone4 w100: " + z4 + " HEALTHY/100"},
		},
		"async replicas never": {
			recs: []rec{tablet(p2, "primary", term(10)), async(z1), semi("zone1-0000000011", 0)},
			want: []string{"P0 zone2 w100: " + p2 + " HEALTHY/100", "P1 zone1 w100: zone1-0000000011 HEALTHY/100"},
		},
		"replication mode is case-insensitive": {
			recs: []rec{tablet(p2, "primary", term(10)), tablet(z1, "replica", `"replication":"SEMI-SYNC"`)},
			want: []string{"P0 zone2 w100: " + p2 + " HEALTHY/100", "P1 zone1 w100: " + z1 + " HEALTHY/100"},
		},
		"lag up to read_after_write_max_lag": {
			recs: []rec{policy(`{"read_after_write_max_lag":"2s"}`), tablet(p2, "primary", term(10)),
				semi(z1, 2), semi("zone1-0000000011", 2.5)},
			want: []string{"P0 zone2 w100: " + p2 + " HEALTHY/100",
				"P1 zone1 w200: " + z1 + " HEALTHY/100, zone1-0000000011 UNHEALTHY/100"},
		},
		"not serving semi-sync replica is unhealthy": {
			recs: []rec{tablet(p2, "primary", term(10)), tablet(z1, "replica", `"state":"NOT_SERVING"`)},
			want: []string{"P0 zone2 w100: " + p2 + " HEALTHY/100", "P1 zone1 w100: " + z1 + " UNHEALTHY/100"},
		},
		"rdonly tablets never": {
			recs: []rec{tablet(p2, "primary", term(10)), tablet(z1, "rdonly")},
			want: []string{"P0 zone2 w100: " + p2 + " HEALTHY/100"},
		},
		"fenced primary stays at priority 0": {
			recs: []rec{tablet(p1, "primary", term(10)), tablet(p2, "primary", term(11)), semi(z1, 0)},
			want: []string{"P0 zone1 w100: " + p1 + " UNHEALTHY/100", "P0 zone2 w100: " + p2 + " HEALTHY/100",
				"P1 zone1 w100: " + z1 + " HEALTHY/100"},
		},
		"cross_region false: replicas of other regions omitted, the primary kept": {
			recs: []rec{policy(`{"failover":{"cross_region":false}}`), tablet(p3, "primary", term(10)), semi(z1, 0), semi(z4, 0)},
			want: []string{"P0 zone3 w100: " + p3 + " HEALTHY/100", "P1 zone1 w100: " + z1 + " HEALTHY/100"},
		},
		"no primary: replicas only": {
			recs: []rec{semi(z2, 0)},
			want: []string{"P0 zone2 w100: " + z2 + " HEALTHY/100"},
		},
		"no client locality: primary, then every replica": {
			recs:  []rec{tablet(p3, "primary", term(10)), semi(z1, 0), semi(z4, 0)},
			noLoc: true,
			want: []string{"P0 zone3 w100: " + p3 + " HEALTHY/100", "P1 zone1 w100: " + z1 + " HEALTHY/100",
				"P1 zone4 w100: " + z4 + " HEALTHY/100"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			client := clientR1A
			if tc.noLoc {
				client = noClient
			}
			topo := build(t, append(cells(), tc.recs...)...)
			a := assign(t, topo, weights.ClassReadAfterWrite, client, weights.KindEnvoy)
			checkAssignment(t, a, tc.want)
		})
	}
}

// TestOtherTabletTypesNeverRouted: spare, backup, restore, drained and
// experimental tablets are valid records that no class ever routes to.
func TestOtherTabletTypesNeverRouted(t *testing.T) {
	recs := cells()
	for i, typ := range []string{"spare", "backup", "restore", "drained", "experimental"} {
		recs = append(recs, tablet(alias("zone1", 900+i), typ, term(12)))
	}
	topo := build(t, recs...)
	for _, c := range weights.Classes {
		for _, kind := range []weights.ClientKind{weights.KindEnvoy, weights.KindGRPC} {
			if a := assign(t, topo, c, clientR1A, kind); len(a.Localities) != 0 {
				t.Errorf("class %s, %s: %q, want an empty assignment", c, kind, render(a))
			}
		}
	}
}
