package ops

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

func run(t *testing.T, s Store, now time.Time, args ...string) (string, error) {
	t.Helper()
	for _, c := range Commands {
		if c.Name == args[0] {
			var out bytes.Buffer
			err := c.Run(context.Background(), s, args[1:], &out, now)
			return out.String(), err
		}
	}
	t.Fatalf("no command %s", args[0])
	return "", nil
}

func TestCommands(t *testing.T) {
	s := newStore(t)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	out, err := run(t, s, now, "shift", "create", "mt", "--keyspace", "orders", "--to-keyspace", "orders2", "--steps", "25,100", "--hold", "10m")
	if err != nil || out != "shift mt created\n" {
		t.Fatalf("create: %q %v", out, err)
	}
	out, err = run(t, s, now.Add(11*time.Minute), "shift", "status")
	if err != nil || !strings.Contains(out, "mt    orders    replica  orders2  100%") {
		t.Errorf("status:\n%s%v", out, err)
	}
	if _, err := run(t, s, now, "shift", "pause"); !errors.Is(err, ErrUsage) {
		t.Errorf("pause without a name: %v, want a usage error", err)
	}
	if _, err := run(t, s, now, "shift", "create", "x", "--keyspace", "orders", "--to-keyspace", "orders", "--hold", "1m"); !errors.Is(err, topology.ErrInvalid) {
		t.Errorf("shift to itself: %v, want a validation error", err)
	}

	f := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(f, []byte("rules: [{from_keyspace: orders@rdonly, to_keyspace: orders2}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, s, now, "rules", "apply", "-f", f, "--dry-run"); err != nil || out != "+ orders@rdonly -> orders2\n" {
		t.Errorf("rules dry run: %q %v", out, err)
	}

	if _, err := run(t, s, now, "cell", "drain", "zone1", "--window", "10m", "--reason", "test"); err != nil {
		t.Fatal(err)
	}
	topo, err := s.Load(context.Background())
	if err != nil || topo.Overrides.Drains["zone1"].Window != 10*time.Minute {
		t.Errorf("drain not stored: %+v %v", topo.Overrides, err)
	}

	out, err = run(t, s, now, "az-rank", "orders/0")
	if err != nil || !strings.Contains(out, "1     zone1") || !strings.Contains(out, "orders/0:") {
		t.Errorf("az-rank:\n%s%v", out, err)
	}
	if _, err := run(t, s, now, "az-rank", "orders/80-"); !errors.Is(err, ErrNotFound) {
		t.Errorf("az-rank of a missing shard: %v, want ErrNotFound", err)
	}
}
