package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/shardmesh/shardmesh/internal/app"
	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// TestAdminJSONIsForScripts: every admin JSON view uses snake_case names
// and writes durations as strings such as "1.5s".
func TestAdminJSONIsForScripts(t *testing.T) {
	a, err := app.Start(context.Background(), app.Config{
		EmbeddedEtcdAddr: "127.0.0.1:0", EtcdDataDir: t.TempDir(), SeedFile: "../../examples/topology.yaml",
		XDSAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	c := xdstest.Dial(t, a.XDSAddr.String(), xdstest.Node{ID: "json-probe", Region: "us-east-1", Zone: "us-east-1a"}, "commerce", nil)
	_, _ = c.Call(context.Background(), "x-shard", "-80") // only makes the client subscribe
	get := func(path string) any {
		t.Helper()
		resp, err := http.Get("http://" + a.AdminAddr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s %v", path, resp.Status, err)
		}
		return v
	}
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		nodes, _ := get("/debug/nodes").([]any)
		return len(nodes) > 0, "no stream in /debug/nodes"
	})
	for _, path := range []string{"/debug/source", "/debug/topology", "/debug/nodes", "/debug/azrank?shard=commerce/-80",
		"/debug/explain?keyspace=commerce&shard=-80&type=replica&region=us-east-1&zone=us-east-1a",
		"/debug/config?region=us-east-1&zone=us-east-1a&kind=envoy"} {
		checkNames(t, path, "", get(path))
	}

	topo := get("/debug/topology").(map[string]any)
	for _, c := range []struct {
		path []string
		want any
	}{
		{[]string{"keyspaces", "commerce", "lag", "max"}, "30s"},
		{[]string{"keyspaces", "commerce", "read_after_write_max_lag"}, "1s"},
		{[]string{"keyspaces", "commerce", "ramp", "window"}, "30s"},
		{[]string{"keyspaces", "customer", "outlier_detection", "base_ejection_time"}, "30s"},
	} {
		if got := dig(topo, c.path...); got != c.want {
			t.Errorf("/debug/topology %s = %v, want %v", strings.Join(c.path, "."), got, c.want)
		}
	}
	shard := dig(topo, "shards", "commerce/-80").([]any)
	if lag := dig(shard[1].(map[string]any), "replication_lag"); lag != "200ms" {
		t.Errorf("/debug/topology commerce/-80 tablet %v: replication_lag %v, want \"200ms\"", dig(shard[1].(map[string]any), "alias"), lag)
	}
	src := get("/debug/source").(map[string]any)
	if src["connected"] != true || src["synced"] != true {
		t.Errorf("/debug/source = %v, want connected and synced", src)
	}
	rank := get("/debug/azrank?shard=commerce/-80").(map[string]any)
	for _, c := range rank["cells"].([]any) {
		lag, _ := dig(c, "max_lag").(string)
		if _, err := time.ParseDuration(lag); err != nil {
			t.Errorf("/debug/azrank cell %v: max_lag %v, want a duration string", dig(c, "cell"), dig(c, "max_lag"))
		}
	}
}

// checkNames fails on a field name that is not snake_case. Map keys that
// are data, not field names (cell, shard and resource names, type URLs,
// tags), are skipped.
func checkNames(t *testing.T, path, at string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			data := at == "cells" || at == "keyspaces" || at == "shards" || at == "drains" || at == "prefer" || at == "port_map" ||
				at == "tags" || at == "acked" || at == "resources" || at == "resource names" || at == "region_order" ||
				at == "typed_extension_protocol_options" || at == "filter_metadata" || at == "typed_per_filter_config"
			if !data && strings.ContainsFunc(k, func(r rune) bool { return unicode.IsUpper(r) || r == '-' }) {
				t.Errorf("%s: field %q under %q is not snake_case", path, k, at)
			}
			switch {
			case at == "resources":
				checkNames(t, path, "resource names", x)
			case data:
				checkNames(t, path, "", x)
			default:
				checkNames(t, path, k, x)
			}
		}
	case []any:
		for _, x := range v {
			checkNames(t, path, at, x)
		}
	}
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}
