package weights_test

import (
	"testing"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// TestEligibility covers which replicas may take reads and the health each
// one advertises. Every tablet is in the client's zone, so each case is one
// locality at priority 0.
func TestEligibility(t *testing.T) {
	const (
		r1 = "zone1-0000000001"
		r2 = "zone1-0000000002"
		r3 = "zone1-0000000003"
	)
	lagPolicy := policy(`{"lag":{"degraded":"10s","max":"30s","min_serving":1}}`)
	cases := map[string]struct {
		recs []rec
		kind weights.ClientKind // KindEnvoy when empty
		want []string
	}{
		"serving replica is healthy": {
			recs: []rec{tablet(r1, "replica")},
			want: []string{"P0 zone1 w100: " + r1 + " HEALTHY/100"},
		},
		"record weight is the endpoint weight": {
			recs: []rec{tablet(r1, "replica", `"weight":300`), tablet(r2, "replica")},
			want: []string{"P0 zone1 w400: " + r1 + " HEALTHY/300, " + r2 + " HEALTHY/100"},
		},
		"NOT_SERVING is unhealthy and kept": {
			recs: []rec{tablet(r1, "replica", `"state":"NOT_SERVING"`), tablet(r2, "replica")},
			want: []string{"P0 zone1 w200: " + r1 + " UNHEALTHY/100, " + r2 + " HEALTHY/100"},
		},
		"DRAINING is draining and kept": {
			recs: []rec{tablet(r1, "replica", `"state":"DRAINING"`), tablet(r2, "replica")},
			want: []string{"P0 zone1 w200: " + r1 + " DRAINING/100, " + r2 + " HEALTHY/100"},
		},
		"state is case-insensitive": {
			recs: []rec{tablet(r1, "REPLICA", `"state":"draining"`)},
			want: []string{"P0 zone1 w100: " + r1 + " DRAINING/100"},
		},
		"health_error excludes a serving tablet": {
			recs: []rec{tablet(r1, "replica", `"health_error":"mysqld not reachable"`)},
			want: []string{"P0 zone1 w100: " + r1 + " UNHEALTHY/100"},
		},
		"health_error on a draining tablet stays draining": {
			recs: []rec{tablet(r1, "replica", `"state":"DRAINING"`, `"health_error":"shutting down"`)},
			want: []string{"P0 zone1 w100: " + r1 + " DRAINING/100"},
		},
		"schema version in the list": {
			recs: []rec{policy(`{"schema_versions":["v1","v2"]}`), tablet(r1, "replica", `"schema_version":"v2"`)},
			want: []string{"P0 zone1 w100: " + r1 + " HEALTHY/100"},
		},
		"schema version not in the list": {
			recs: []rec{policy(`{"schema_versions":["v2"]}`), tablet(r1, "replica"), tablet(r2, "replica", `"schema_version":"v2"`)},
			want: []string{"P0 zone1 w200: " + r1 + " UNHEALTHY/100, " + r2 + " HEALTHY/100"},
		},
		"missing schema version with a list": {
			recs: []rec{policy(`{"schema_versions":["v1"]}`), tablet(r1, "replica", `"schema_version":""`)},
			want: []string{"P0 zone1 w100: " + r1 + " UNHEALTHY/100"},
		},
		"empty schema list accepts any version": {
			recs: []rec{policy(`{}`), tablet(r1, "replica", `"schema_version":"v99"`), tablet(r2, "replica", `"schema_version":""`)},
			want: []string{"P0 zone1 w200: " + r1 + " HEALTHY/100, " + r2 + " HEALTHY/100"},
		},
		"lag at lag.degraded is healthy": {
			recs: []rec{lagPolicy, tablet(r1, "replica", lag(10))},
			want: []string{"P0 zone1 w100: " + r1 + " HEALTHY/100"},
		},
		"lag above lag.degraded is degraded at full weight for Envoy": {
			recs: []rec{lagPolicy, tablet(r1, "replica", lag(20)), tablet(r2, "replica")},
			want: []string{"P0 zone1 w200: " + r1 + " DEGRADED/100, " + r2 + " HEALTHY/100"},
		},
		"lag above lag.degraded is healthy at reduced weight for gRPC": {
			recs: []rec{lagPolicy, tablet(r1, "replica", lag(20)), tablet(r2, "replica")},
			kind: weights.KindGRPC,
			// halfway from degraded (10s) to max (30s): 100% - 45% = 55%.
			want: []string{"P0 " + r1 + " 35.5%", "P0 " + r2 + " 64.5%"},
		},
		"lag at lag.max is still eligible": {
			recs: []rec{lagPolicy, tablet(r1, "replica", lag(30)), tablet(r2, "replica")},
			kind: weights.KindGRPC,
			want: []string{"P0 " + r1 + " 9.1%", "P0 " + r2 + " 90.9%"},
		},
		"lag over lag.max excludes beyond min_serving": {
			recs: []rec{lagPolicy, tablet(r1, "replica", lag(0.5)), tablet(r2, "replica", lag(31))},
			want: []string{"P0 zone1 w200: " + r1 + " HEALTHY/100, " + r2 + " UNHEALTHY/100"},
		},
		"min_serving keeps the least lagged eligible": {
			recs: []rec{policy(`{"lag":{"degraded":"10s","max":"30s","min_serving":2}}`),
				tablet(r1, "replica", lag(60)), tablet(r2, "replica", lag(40)), tablet(r3, "replica", lag(50))},
			kind: weights.KindGRPC,
			want: []string{"P0 " + r2 + " 50.0%", "P0 " + r3 + " 50.0%"},
		},
		"min_serving kept tablets are degraded for Envoy": {
			recs: []rec{policy(`{"lag":{"degraded":"10s","max":"30s","min_serving":1}}`),
				tablet(r1, "replica", lag(60)), tablet(r2, "replica", lag(40))},
			want: []string{"P0 zone1 w200: " + r1 + " UNHEALTHY/100, " + r2 + " DEGRADED/100"},
		},
		"min_serving counts only serving tablets": {
			recs: []rec{lagPolicy, tablet(r1, "replica", lag(0), `"state":"NOT_SERVING"`),
				tablet(r2, "replica", lag(40)), tablet(r3, "replica", lag(50))},
			want: []string{"P0 zone1 w300: " + r1 + " UNHEALTHY/100, " + r2 + " DEGRADED/100, " + r3 + " UNHEALTHY/100"},
		},
		"min_serving 0 keeps nothing over lag.max": {
			recs: []rec{policy(`{"lag":{"degraded":"10s","max":"30s","min_serving":0}}`), tablet(r1, "replica", lag(31))},
			want: []string{"P0 zone1 w100: " + r1 + " UNHEALTHY/100"},
		},
		"weight 1 never reduces to 0": {
			recs: []rec{lagPolicy, tablet(r1, "replica", lag(29), `"weight":1`)},
			kind: weights.KindGRPC,
			want: []string{"P0 " + r1 + " 100.0%"},
		},
		"tablet without the keyspace's port is left out": {
			recs: []rec{policy(`{"port_name":"grpc"}`), tablet(r1, "replica", `"port_map":{"mysql":3306}`), tablet(r2, "replica")},
			want: []string{"P0 zone1 w100: " + r2 + " HEALTHY/100"},
		},
		"port_name picks the port": {
			recs: []rec{policy(`{"port_name":"mysql"}`), tablet(r1, "replica", `"port_map":{"grpc":15991}`), tablet(r2, "replica")},
			want: []string{"P0 zone1 w100: " + r2 + " HEALTHY/100"},
		},
		"Envoy locality weight is the capacity of every endpoint": {
			recs: []rec{tablet(r1, "replica"), tablet(r2, "replica", `"state":"NOT_SERVING"`, `"weight":200`),
				tablet(r3, "replica", `"state":"DRAINING"`, `"weight":50`)},
			want: []string{"P0 zone1 w350: " + r1 + " HEALTHY/100, " + r2 + " UNHEALTHY/200, " + r3 + " DRAINING/50"},
		},
		"gRPC gets only the usable tablets": {
			recs: []rec{tablet(r1, "replica"), tablet(r2, "replica", `"state":"NOT_SERVING"`, `"weight":200`),
				tablet(r3, "replica", `"state":"DRAINING"`, `"weight":50`)},
			kind: weights.KindGRPC,
			want: []string{"P0 " + r1 + " 100.0%"},
		},
		"gRPC gets nothing when nothing is usable": {
			recs: []rec{tablet(r1, "replica", `"state":"NOT_SERVING"`)},
			kind: weights.KindGRPC,
			want: nil,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			kind := tc.kind
			if kind == "" {
				kind = weights.KindEnvoy
			}
			topo := build(t, append(cells(), tc.recs...)...)
			if kind == weights.KindGRPC {
				checkGRPC(t, assign(t, topo, weights.ClassReplica, clientR1A, kind), tc.want)
				return
			}
			checkAssignment(t, assign(t, topo, weights.ClassReplica, clientR1A, kind), tc.want)
		})
	}
}

// TestLagWeightFallsContinuously sweeps the lag from lag.degraded to beyond
// lag.max: the gRPC weight never rises, never jumps by more than the lag
// step warrants, ends at 10% at lag.max, and Envoy keeps the full weight
// (it learns about the lag from DEGRADED instead).
func TestLagWeightFallsContinuously(t *testing.T) {
	const weight, steps = 10000, 200
	p := policy(`{"lag":{"degraded":"10s","max":"30s","min_serving":1}}`)
	prev := uint32(weight)
	for i := 0; i <= steps+20; i++ {
		seconds := 10 + 20*float64(i)/steps
		topo := build(t, append(cells(), p, tablet("zone1-0000000001", "replica", lag(seconds), `"weight":10000`))...)
		g := assign(t, topo, weights.ClassReplica, clientR1A, weights.KindGRPC).Localities[0].Endpoints[0]
		if g.Health != weights.Healthy {
			t.Fatalf("lag %vs: gRPC health %v, want HEALTHY", seconds, g.Health)
		}
		if g.Weight > prev {
			t.Errorf("lag %vs: weight %d rose from %d", seconds, g.Weight, prev)
		}
		// 20s over 200 steps drops 0.45% a step; allow one extra percent for rounding.
		if drop := prev - g.Weight; drop > weight*145/10000 {
			t.Errorf("lag %vs: weight fell by %d in one step (from %d to %d)", seconds, drop, prev, g.Weight)
		}
		if seconds >= 30 && g.Weight != weight/10 {
			t.Errorf("lag %vs: weight %d, want %d (10%%) at and beyond lag.max", seconds, g.Weight, weight/10)
		}
		e := assign(t, topo, weights.ClassReplica, clientR1A, weights.KindEnvoy).Localities[0].Endpoints[0]
		if i > 0 && (e.Health != weights.Degraded || e.Weight != weight) {
			t.Errorf("lag %vs: Envoy endpoint %v/%d, want DEGRADED/%d", seconds, e.Health, e.Weight, weight)
		}
		prev = g.Weight
	}
}

// TestLagHysteresis feeds a replica's lag readings one record at a time,
// as etcd delivers them: once over lag.max it stays out until its lag is
// back to 90 % of lag.max, so readings hovering around the threshold do not
// flap it in and out.
func TestLagHysteresis(t *testing.T) {
	b := topology.NewBuilder()
	for _, r := range append(cells(), policy(`{"lag":{"degraded":"10s","max":"30s","min_serving":0}}`), tablet(alias("zone2", 9), "replica")) {
		if err := b.Put(r.key, []byte(r.val)); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		lag      float64
		eligible bool
	}{
		{29, true}, {31, false}, {29, false}, {28, false}, {27, true}, {29, true}, {30.5, false}, {20, true},
	}
	for i, s := range steps {
		r := tablet(alias("zone2", 9), "replica", lag(s.lag))
		if err := b.Put(r.key, []byte(r.val)); err != nil {
			t.Fatal(err)
		}
		a := assign(t, b.Build(int64(i+2)), weights.ClassReplica, clientR1A, weights.KindEnvoy)
		if got := a.Usable() == 1; got != s.eligible {
			t.Errorf("step %d, lag %vs: eligible = %v, want %v (%q)", i, s.lag, got, s.eligible, render(a))
		}
	}
}
