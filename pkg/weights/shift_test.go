package weights_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/pkg/weights"
)

// shiftRec is a shift of ks into ks2's replica traffic in steps 10, 25, 50,
// 100 with a 10-minute hold, started at now; extra JSON fields follow.
func shiftRec(extra string) rec {
	return rec{"shifts/move", fmt.Sprintf(`{"keyspace":%q,"tablet_type":"replica","to_keyspace":"ks2",
		"steps":[10,25,50,100],"hold":"10m","started_at":%q%s}`, testKeyspace, now.Format(time.RFC3339), extra)}
}

// target is a replica of keyspace ks2.
func target(alias, state string) rec {
	return rec{"tablets/" + alias, fmt.Sprintf(`{"keyspace":"ks2","shard":"0","type":"replica","hostname":"h",
		"port_map":{"grpc":1},"state":%q}`, state)}
}

// TestRedirectOf walks a shift through time on an injected clock, with
// pause, abort, automatic rollback and routing rules.
func TestRedirectOf(t *testing.T) {
	healthyTarget := []rec{target("zone1-0000000901", "SERVING"), target("zone2-0000000902", "SERVING")}
	cases := map[string]struct {
		recs    []rec
		at      time.Duration // after now
		class   weights.Class
		percent uint32
		status  string
	}{
		"before the start":         {recs: healthyTarget, at: -time.Minute, status: "not started"},
		"first step":               {recs: healthyTarget, percent: 10, status: "step 1 of 4"},
		"just before the 2nd step": {recs: healthyTarget, at: 10*time.Minute - time.Second, percent: 10, status: "step 1 of 4"},
		"second step":              {recs: healthyTarget, at: 10 * time.Minute, percent: 25, status: "step 2 of 4"},
		"last step stays":          {recs: healthyTarget, at: 5 * time.Hour, percent: 100, status: "step 4 of 4"},
		"paused at the 2nd step": {recs: append(healthyTarget[:0:0], append(healthyTarget, shiftRec(fmt.Sprintf(`,"paused_at":%q`, now.Add(15*time.Minute).Format(time.RFC3339))))...),
			at: 5 * time.Hour, percent: 25, status: "step 2 of 4, paused"},
		"aborted":                 {recs: append(healthyTarget[:0:0], append(healthyTarget, shiftRec(`,"aborted":true`))...), at: time.Hour, status: "aborted"},
		"other classes untouched": {recs: healthyTarget, at: time.Hour, class: weights.ClassRdonly},
		"rolled back below the threshold": {
			recs:   []rec{target("zone1-0000000901", "SERVING"), target("zone2-0000000902", "NOT_SERVING"), shiftRec(`,"rollback_below_percent":60`)},
			at:     time.Hour,
			status: "rolled back: 50% of the target's replica tablets eligible, below 60%",
		},
		"a routing rule wins": {
			recs:    append(healthyTarget[:0:0], append(healthyTarget, rec{"routing/keyspace_rules", `{"rules":[{"from_keyspace":"ks@replica","to_keyspace":"ks2"}]}`})...),
			at:      -time.Hour,
			percent: 100, status: "rule",
		},
		"never to another tenant": {
			recs: append(healthyTarget[:0:0], append(healthyTarget, rec{"keyspaces/ks2", `{"tenant":"other"}`})...),
			at:   time.Hour,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			recs := append(cells(), tablet(z1, "replica"))
			recs = append(recs, tc.recs...)
			if !hasShift(tc.recs) && tc.status != "rule" {
				recs = append(recs, shiftRec(""))
			}
			class := tc.class
			if class == "" {
				class = weights.ClassReplica
			}
			topo := build(t, recs...)
			r, _ := weights.RedirectOf(topo, testKeyspace, class, now.Add(tc.at))
			if r.Percent != tc.percent || r.Status != tc.status {
				t.Errorf("redirect = %d%% %q, want %d%% %q", r.Percent, r.Status, tc.percent, tc.status)
			}
		})
	}
}

func hasShift(recs []rec) bool {
	for _, r := range recs {
		if r.key == "shifts/move" {
			return true
		}
	}
	return false
}

// TestShiftStepsAreScheduled: the next rebuild falls on the next step, and
// a paused shift schedules none.
func TestShiftStepsAreScheduled(t *testing.T) {
	topo := build(t, append(cells(), tablet(z1, "replica"), shiftRec(""))...)
	if next, ok := weights.NextPhaseChange(topo, now.Add(12*time.Minute)); !ok || !next.Equal(now.Add(20*time.Minute)) {
		t.Errorf("next change %v (%v), want %v", next, ok, now.Add(20*time.Minute))
	}
	paused := build(t, append(cells(), tablet(z1, "replica"), shiftRec(fmt.Sprintf(`,"paused_at":%q`, now.Format(time.RFC3339))))...)
	if next, ok := weights.NextPhaseChange(paused, now.Add(time.Minute)); ok {
		t.Errorf("paused shift schedules a change at %v", next)
	}
}

// TestRampSteps: a tablet serving for part of its ramp window gets the
// weight of its step, on an injected clock.
func TestRampSteps(t *testing.T) {
	for _, tc := range []struct {
		age  time.Duration
		want uint32
	}{{0, 10}, {9 * time.Minute, 10}, {10 * time.Minute, 32}, {25 * time.Minute, 55}, {39 * time.Minute, 77}, {40 * time.Minute, 100}, {-time.Minute, 10}} {
		topo := build(t, append(cells(), policy(`{"ramp":{"window":"40m","min_weight_percent":10}}`),
			tablet(z1, "replica", fmt.Sprintf(`"serving_since":%q`, now.Add(-tc.age).Format(time.RFC3339))))...)
		a := assign(t, topo, weights.ClassReplica, clientR1A, weights.KindEnvoy)
		if got := a.Localities[0].Endpoints[0].Weight; got != tc.want {
			t.Errorf("serving for %v: weight %d, want %d", tc.age, got, tc.want)
		}
	}
}
