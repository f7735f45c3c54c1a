package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/shardmesh/shardmesh/internal/app"
	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// newApp starts xds-server on an embedded etcd seeded with the example
// fleet; shardctl runs against it.
func newApp(t *testing.T) *app.App {
	t.Helper()
	a, err := app.Start(context.Background(), app.Config{
		EmbeddedEtcdAddr: "127.0.0.1:0", EtcdDataDir: t.TempDir(), SeedFile: "../../examples/topology.yaml",
		XDSAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// shardctl runs the CLI and returns its exit code, stdout and stderr.
func shardctl(t *testing.T, a *app.App, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	base := []string{"--etcd-endpoints=" + strings.Join(a.Etcd.Endpoints(), ","), "--admin-addr=" + a.AdminAddr.String()}
	code := run(context.Background(), append(base, args...), &out, &errOut, time.Now)
	return code, out.String(), errOut.String()
}

func TestApplyValidatesEverythingFirst(t *testing.T) {
	a := newApp(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte(`
tablets:
  zone1-0000000901: {keyspace: commerce, shard: "-80", type: replica, hostname: h, port_map: {grpc: 70000}, state: SERVING}
  zone1-0000000902: {keyspace: commerce, shard: "-80", type: replica, hostname: h, port_map: {grpc: 1}, state: ASLEEP}
  zone1-0000000903: {keyspace: commerce, shard: "-80", type: replica, hostname: h, port_map: {grpc: 1}, state: SERVING}
`), 0o644)
	code, _, stderr := shardctl(t, a, "apply", "-f", bad)
	if code != exitValidation {
		t.Errorf("exit %d, want %d", code, exitValidation)
	}
	for _, want := range []string{"tablet zone1-0000000901: port_map.grpc: 70000 out of range", "tablet zone1-0000000902: state: unknown state"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	if resp, _ := a.Client.Get(context.Background(), "/shardmesh/tablets/zone1-0000000903"); len(resp.Kvs) != 0 {
		t.Error("the valid record of a file with errors was written")
	}
}

func TestApplyDryRunThenApply(t *testing.T) {
	a := newApp(t)
	data, _ := os.ReadFile("../../examples/topology.yaml")
	changed := strings.Replace(string(data), "replication_lag_seconds: 0.2, schema_version: v42", "replication_lag_seconds: 9, schema_version: v42", 1)
	f := filepath.Join(t.TempDir(), "t.yaml")
	os.WriteFile(f, []byte(changed), 0o644)
	code, out, stderr := shardctl(t, a, "apply", "-f", f, "--dry-run")
	if code != exitOK || !strings.Contains(out, "~ tablets/zone1-0000000102\n") || !strings.Contains(out, "1 of 19 records to change") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, stderr)
	}
	if got := tabletLag(t, a, "zone1-0000000102"); got != 0.2 {
		t.Fatalf("dry run wrote: lag %v", got)
	}
	if code, out, stderr := shardctl(t, a, "apply", "-f", f); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, stderr)
	}
	if got := tabletLag(t, a, "zone1-0000000102"); got != 9 {
		t.Errorf("after apply: lag %v, want 9", got)
	}
}

func tabletLag(t *testing.T, a *app.App, alias string) float64 {
	t.Helper()
	resp, err := a.Client.Get(context.Background(), "/shardmesh/tablets/"+alias)
	if err != nil || len(resp.Kvs) == 0 {
		t.Fatalf("get %s: %v", alias, err)
	}
	var r struct {
		Lag float64 `json:"replication_lag_seconds"`
	}
	json.Unmarshal(resp.Kvs[0].Value, &r)
	return r.Lag
}

func TestGetAndTabletSet(t *testing.T) {
	a := newApp(t)
	code, out, _ := shardctl(t, a, "get", "cells")
	if code != exitOK || !strings.Contains(out, "zone3  us-west-2  us-west-2a") {
		t.Errorf("get cells: exit %d\n%s", code, out)
	}
	code, out, _ = shardctl(t, a, "get", "tablets", "-o", "json")
	var tablets []map[string]any
	if err := json.Unmarshal([]byte(out), &tablets); code != exitOK || err != nil || len(tablets) != 14 {
		t.Errorf("get tablets -o json: exit %d, %d tablets, %v", code, len(tablets), err)
	}
	if code, out, stderr := shardctl(t, a, "tablet", "set", "zone1-0000000102", "--state", "NOT_SERVING", "--lag", "12s"); code != exitOK {
		t.Fatalf("tablet set: exit %d %s%s", code, out, stderr)
	}
	if got := tabletLag(t, a, "zone1-0000000102"); got != 12 {
		t.Errorf("lag %v, want 12", got)
	}
	code, _, stderr := shardctl(t, a, "tablet", "set", "zone1-0000000102", "--state", "ASLEEP")
	if code != exitValidation || !strings.Contains(stderr, "tablet zone1-0000000102: state") {
		t.Errorf("invalid state: exit %d %q", code, stderr)
	}
	if code, _, _ := shardctl(t, a, "tablet", "set", "zone9-0000000999", "--state", "SERVING"); code != exitFailure {
		t.Errorf("unknown tablet: exit %d, want %d", code, exitFailure)
	}
	if code, _, _ := shardctl(t, a, "frobnicate"); code != exitUsage {
		t.Errorf("unknown command: exit %d, want %d", code, exitUsage)
	}
}

func TestRenderAndStatus(t *testing.T) {
	a := newApp(t)
	code, out, stderr := shardctl(t, a, "render", "--region", "us-east-1", "--zone", "us-east-1a")
	if code != exitOK || !strings.Contains(out, "# envoy.config.endpoint.v3.ClusterLoadAssignment commerce/-80/replica") ||
		!strings.Contains(out, "subZone: zone1-0000000102") {
		t.Errorf("render: exit %d %s\n%s", code, stderr, out[:min(len(out), 2000)])
	}
	// --encoding legacy writes the header matchers old gRPC clients read.
	code, out, stderr = shardctl(t, a, "render", "--region", "us-east-1", "--zone", "us-east-1a", "--encoding", "legacy")
	if code != exitOK || !strings.Contains(out, "exactMatch: \"-80\"") || strings.Contains(out, "stringMatch") {
		t.Errorf("render --encoding legacy: exit %d %s\n%s", code, stderr, out[:min(len(out), 2000)])
	}
	if code, _, _ := shardctl(t, a, "render", "--region", "r", "--zone", "z", "--encoding", "v2"); code != exitUsage {
		t.Errorf("render --encoding v2: exit %d, want %d", code, exitUsage)
	}
	// A connected gRPC client shows in status with its group, family,
	// release and encoding.
	c := xdstest.Dial(t, a.XDSAddr.String(), xdstest.Node{ID: "status-probe", Region: "us-east-1", Zone: "us-east-1b"}, "commerce", nil)
	_, _ = c.Call(context.Background(), "x-shard", "-80") // the tablets do not exist; the call only makes the client fetch its config
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		code, out, stderr := shardctl(t, a, "status")
		return code == exitOK && strings.Contains(out, "status-probe  grpc/us-east-1/us-east-1b/  grpc-go "+grpc.Version+"  current") && strings.Contains(out, "LDS="),
			"status: " + out + stderr
	})
}
