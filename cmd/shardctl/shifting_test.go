package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/app"
	"github.com/shardmesh/shardmesh/internal/ops"
)

// shiftingFleet is xds-server's etcd with two small keyspaces.
func shiftingFleet(t *testing.T) *app.App {
	t.Helper()
	a := newApp(t)
	for k, v := range map[string]string{
		"cells/zone1":              `{"region":"r1"}`,
		"cells/zone2":              `{"region":"r1"}`,
		"keyspaces/orders":         `{}`,
		"keyspaces/orders2":        `{}`,
		"tablets/zone1-0000000001": `{"keyspace":"orders","shard":"0","type":"replica","hostname":"h","port_map":{"grpc":1},"state":"SERVING"}`,
		"tablets/zone2-0000000002": `{"keyspace":"orders2","shard":"0","type":"replica","hostname":"h","port_map":{"grpc":1},"state":"SERVING"}`,
		"tablets/zone2-0000000003": `{"keyspace":"orders2","shard":"0","type":"replica","hostname":"h","port_map":{"grpc":1},"state":"NOT_SERVING"}`,
	} {
		if _, err := a.Client.Put(context.Background(), "/shardmesh/"+k, v); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// runAt runs shardctl with its clock at now; it returns stdout and, on a
// non-zero exit, an error with the exit code and stderr.
func runAt(t *testing.T, a *app.App, now time.Time, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	base := []string{"--etcd-endpoints=" + strings.Join(a.Etcd.Endpoints(), ","), "--admin-addr=" + a.AdminAddr.String()}
	if code := run(context.Background(), append(base, args...), &out, &errOut, func() time.Time { return now }); code != exitOK {
		return out.String(), exitError{code, errOut.String()}
	}
	return out.String(), nil
}

type exitError struct {
	code   int
	stderr string
}

func (e exitError) Error() string { return fmt.Sprintf("exit %d: %s", e.code, e.stderr) }

// exited reports whether err is an exit with the code.
func exited(err error, code int) bool {
	var e exitError
	return errors.As(err, &e) && e.code == code
}

func TestCommands(t *testing.T) {
	s := shiftingFleet(t)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	out, err := runAt(t, s, now, "shift", "create", "mt", "--keyspace", "orders", "--to-keyspace", "orders2", "--steps", "25,100", "--hold", "10m")
	if err != nil || out != "shift mt created\n" {
		t.Fatalf("create: %q %v", out, err)
	}
	out, err = runAt(t, s, now.Add(11*time.Minute), "shift", "status")
	if err != nil || !strings.Contains(out, "mt    orders    replica  orders2  100%") {
		t.Errorf("status:\n%s%v", out, err)
	}
	if _, err := runAt(t, s, now, "shift", "pause"); !exited(err, exitUsage) {
		t.Errorf("pause without a name: %v, want a usage error", err)
	}
	if _, err := runAt(t, s, now, "shift", "create", "x", "--keyspace", "orders", "--to-keyspace", "orders", "--hold", "1m"); !exited(err, exitValidation) {
		t.Errorf("shift to itself: %v, want a validation error", err)
	}

	f := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(f, []byte("rules: [{from_keyspace: orders@rdonly, to_keyspace: orders2}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runAt(t, s, now, "rules", "apply", "-f", f, "--dry-run"); err != nil || out != "+ orders@rdonly -> orders2\n" {
		t.Errorf("rules dry run: %q %v", out, err)
	}

	if _, err := runAt(t, s, now, "cell", "drain", "zone1", "--window", "10m", "--reason", "test"); err != nil {
		t.Fatal(err)
	}
	topo, err := (ops.Store{Client: s.Client, Prefix: "/shardmesh/"}).Load(context.Background())
	if err != nil || topo.Overrides.Drains["zone1"].Window != 10*time.Minute {
		t.Errorf("drain not stored: %+v %v", topo.Overrides, err)
	}

	out, err = runAt(t, s, now, "az-rank", "orders/0")
	if err != nil || !strings.Contains(out, "1     zone1") || !strings.Contains(out, "orders/0:") {
		t.Errorf("az-rank:\n%s%v", out, err)
	}
	if _, err := runAt(t, s, now, "az-rank", "orders/80-"); !exited(err, exitFailure) || !strings.Contains(err.Error(), "not found") {
		t.Errorf("az-rank of a missing shard: %v, want ErrNotFound", err)
	}
}
