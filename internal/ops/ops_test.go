package ops

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/internal/embedetcd"
	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

func newStore(t *testing.T) Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{Dir: t.TempDir(), ClientAddr: "127.0.0.1:0", PeerAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	s := Store{Client: cli, Prefix: "/shardmesh/"}
	for k, v := range map[string]string{
		"cells/zone1":              `{"region":"r1"}`,
		"cells/zone2":              `{"region":"r1"}`,
		"keyspaces/orders":         `{}`,
		"keyspaces/orders2":        `{}`,
		"tablets/zone1-0000000001": `{"keyspace":"orders","shard":"0","type":"replica","hostname":"h","port_map":{"grpc":1},"state":"SERVING"}`,
		"tablets/zone2-0000000002": `{"keyspace":"orders2","shard":"0","type":"replica","hostname":"h","port_map":{"grpc":1},"state":"SERVING"}`,
		"tablets/zone2-0000000003": `{"keyspace":"orders2","shard":"0","type":"replica","hostname":"h","port_map":{"grpc":1},"state":"NOT_SERVING"}`,
	} {
		if err := s.put(ctx, k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestShiftLifecycle creates, pauses, resumes and aborts a shift on an
// injected clock and reads its status the way the control plane computes it.
func TestShiftLifecycle(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	spec := ShiftSpec{Keyspace: "orders", TabletType: "replica", ToKeyspace: "orders2", Steps: []uint32{10, 50, 100}, Hold: "10m"}
	if err := s.CreateShift(ctx, "mt", spec, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateShift(ctx, "mt", spec, t0); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second create: %v, want already exists", err)
	}
	status := func(now time.Time) ShiftStatus {
		t.Helper()
		topo, err := s.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st := Shifts(topo, now)
		if len(st) != 1 {
			t.Fatalf("shifts %+v, want one", st)
		}
		return st[0]
	}
	if st := status(t0.Add(12 * time.Minute)); st.Percent != 50 || st.Status != "step 2 of 3" {
		t.Errorf("at 12m: %+v, want 50%% step 2 of 3", st)
	}
	if err := s.PauseShift(ctx, "mt", t0.Add(12*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st := status(t0.Add(time.Hour)); st.Percent != 50 || !strings.Contains(st.Status, "paused") {
		t.Errorf("paused, an hour in: %+v, want still 50%% and paused", st)
	}
	// Resumed 48 minutes later: the 2 minutes left of step 2 still run.
	if err := s.ResumeShift(ctx, "mt", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st := status(t0.Add(time.Hour + time.Minute)); st.Percent != 50 {
		t.Errorf("1m after resuming: %+v, want 50%%", st)
	}
	if st := status(t0.Add(time.Hour + 9*time.Minute)); st.Percent != 100 {
		t.Errorf("9m after resuming: %+v, want 100%%", st)
	}
	if err := s.AbortShift(ctx, "mt"); err != nil {
		t.Fatal(err)
	}
	if st := status(t0.Add(2 * time.Hour)); st.Percent != 0 || st.Status != "aborted" {
		t.Errorf("aborted: %+v", st)
	}
	if err := s.PauseShift(ctx, "nope", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("pause of a missing shift: %v, want ErrNotFound", err)
	}
}

func TestShiftRejectedBeforeWrite(t *testing.T) {
	s := newStore(t)
	err := s.CreateShift(context.Background(), "bad", ShiftSpec{Keyspace: "orders", TabletType: "replica", ToKeyspace: "orders2",
		Steps: []uint32{50, 20}, Hold: "1m"}, time.Now())
	if err == nil || !strings.Contains(err.Error(), "shift bad: steps[1]") {
		t.Fatalf("err = %v, want one naming shift bad and steps[1]", err)
	}
	if _, _, err := s.get(context.Background(), topology.ShiftsPrefix+"bad"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an invalid shift was written: %v", err)
	}
}

func TestApplyRulesDryRunAndDiff(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	rules := "rules:\n  - {from_keyspace: orders@rdonly, to_keyspace: orders2}\n"
	diff, err := s.ApplyRules(ctx, []byte(rules), true)
	if err != nil || diff != "+ orders@rdonly -> orders2\n" {
		t.Fatalf("dry run: %q, %v", diff, err)
	}
	if _, _, err := s.get(ctx, topology.RulesKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("dry run wrote the rules: %v", err)
	}
	if _, err := s.ApplyRules(ctx, []byte(rules), false); err != nil {
		t.Fatal(err)
	}
	diff, err = s.ApplyRules(ctx, []byte("rules: [{from_keyspace: orders, to_keyspace: orders2}]"), true)
	if err != nil || diff != "- orders@rdonly -> orders2\n+ orders -> orders2\n" {
		t.Errorf("second diff: %q, %v", diff, err)
	}
	if _, err := s.ApplyRules(ctx, []byte("rules: [{from_keyspace: orders@spare, to_keyspace: orders2}]"), false); err == nil ||
		!strings.Contains(err.Error(), "rules[0].from_keyspace") {
		t.Errorf("invalid rule: %v, want an error naming rules[0].from_keyspace", err)
	}
	topo, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.Rules) != 1 || topo.Rules[0].TabletType != topology.TypeRdonly {
		t.Errorf("stored rules %+v, want the first applied set unchanged", topo.Rules)
	}
}

// TestCellOverridesRoundTrip drains, undrains and prefers cells and checks
// what the control plane would read.
func TestCellOverridesRoundTrip(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	if err := s.DrainCell(ctx, "zone1", 10*time.Minute, "maintenance", now); err != nil {
		t.Fatal(err)
	}
	if err := s.PreferCell(ctx, "orders", "zone2"); err != nil {
		t.Fatal(err)
	}
	topo, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := topo.Overrides.Drains["zone1"]
	if d.Window != 10*time.Minute || !d.StartedAt.Equal(now) || d.Reason != "maintenance" || topo.Overrides.Prefer["orders"] != "zone2" {
		t.Errorf("overrides read back as %+v", topo.Overrides)
	}
	if step := d.Step(now.Add(5*time.Minute), weights.RampSteps); step != 2 {
		t.Errorf("half way: drain step %d, want 2", step)
	}
	if err := s.UndrainCell(ctx, "zone1"); err != nil {
		t.Fatal(err)
	}
	if err := s.PreferCell(ctx, "orders", ""); err != nil {
		t.Fatal(err)
	}
	if topo, _ = s.Load(ctx); len(topo.Overrides.Drains) != 0 || len(topo.Overrides.Prefer) != 0 {
		t.Errorf("after undo: %+v", topo.Overrides)
	}
	if err := s.UndrainCell(ctx, "zone1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("undrain twice: %v, want ErrNotFound", err)
	}
	if err := s.PreferCell(ctx, "orders", "bad cell"); err == nil || !strings.Contains(err.Error(), "prefer orders: cell") {
		t.Errorf("invalid cell: %v", err)
	}
}
