package app_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shardmesh/shardmesh/internal/app"
	"github.com/shardmesh/shardmesh/internal/xdstest"
)

var screenshot = flag.String("screenshot", "", "write a screenshot of the status page to this file (docs/status.png)")

// chromiumPath is Debian's chromium (scripts/debian-deps.sh installs it).
const chromiumPath = "/usr/bin/chromium"

// startBrowser starts headless Chromium with a fresh profile and nothing
// that talks to the network by itself, and returns a tab's context; the
// browser is killed when the test ends.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath(chromiumPath)
	if err != nil {
		t.Fatalf("%s: %v (make deps installs Debian's chromium)", chromiumPath, err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000))
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc() // kills the browser and waits for it
	})
	return ctx
}

// TestStatusPageInChromium loads the status page in a real browser: it
// shows the example fleet, and after a tablet's record changes in etcd the
// page shows the tablet's new state and the traffic moving to the next
// tablet, without a reload.
func TestStatusPageInChromium(t *testing.T) {
	a, err := app.Start(context.Background(), app.Config{
		EmbeddedEtcdAddr: "127.0.0.1:0", EtcdDataDir: t.TempDir(), SeedFile: "../../examples/topology.yaml",
		XDSAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	ready, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.WaitReady(ready); err != nil {
		t.Fatal(err)
	}
	ctx := startBrowser(t)
	const replica, next = "zone1-0000000102", "zone2-0000000201" // commerce/-80 replicas in us-east-1a and us-east-1b
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+a.AdminAddr.String()+"/?locality=us-east-1/us-east-1a&kind=grpc")); err != nil {
		t.Fatal(err)
	}
	for _, check := range []struct{ js, want string }{
		{`document.querySelector("#t-` + replica + ` .state").textContent`, "SERVING"},
		{`document.getElementById("t-` + replica + `").dataset.share`, "100%"},
		{`document.getElementById("t-` + next + `").dataset.share`, "0%"},
		{`document.querySelector("[id='shard-commerce/-80'] th").textContent.includes("primary zone1-0000000101") ? "yes" : "no"`, "yes"},
		{`String(document.querySelectorAll(".tablet").length)`, "14"},
	} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](check.js))
		if err != nil || got != check.want {
			t.Fatalf("%s = %q (%v), want %q", check.js, got, err, check.want)
		}
	}
	// A marker that a reload would lose.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.noReload = 42`)); err != nil {
		t.Fatal(err)
	}

	setState(t, a, replica, "NOT_SERVING")
	// A proxyless gRPC client connects: its node group appears too.
	c := xdstest.Dial(t, a.XDSAddr.String(), xdstest.Node{ID: "page-probe", Region: "us-east-1", Zone: "us-east-1b"}, "commerce", nil)
	_, _ = c.Call(context.Background(), "x-shard", "-80") // the tablets do not exist; the call makes the client subscribe
	updated := `document.getElementById("t-` + replica + `").dataset.state === "NOT_SERVING" &&
		document.getElementById("t-` + next + `").dataset.share === "100%" &&
		document.getElementById("group-grpc/us-east-1/us-east-1b/") !== null`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](updated, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("t-`+replica+`").outerHTML`))
		t.Fatalf("the page did not show %s NOT_SERVING, the traffic moving to %s and the new node group: %v\n%s", replica, next, err, html)
	}
	for _, check := range []struct{ js, want string }{
		{`String(window.noReload)`, "42"}, // the same page: updated in place
		{`document.querySelector("#t-` + replica + ` .why").textContent`, "NOT_SERVING"},
		{`document.getElementById("t-` + replica + `").classList.contains("changed") ? "flashed" : "not flashed"`, "flashed"},
	} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](check.js))
		if err != nil || got != check.want {
			t.Errorf("after the change: %s = %q (%v), want %q", check.js, got, err, check.want)
		}
	}
	if *screenshot != "" {
		// More to see: a lagging replica, a cell draining, an invalid record.
		put(t, a, "tablets/zone2-0000000212", `{"keyspace":"commerce","shard":"80-","type":"replica","hostname":"127.0.0.1",`+
			`"port_map":{"grpc":15212},"state":"SERVING","replication":"semi-sync","replication_lag_seconds":45,"schema_version":"v42"}`)
		put(t, a, "overrides/drain/zone3", `{"started_at":"`+time.Now().UTC().Format(time.RFC3339)+`","window":"10m","reason":"rack swap"}`)
		put(t, a, "tablets/zone2-0000000222", `{"keyspace":"customer","shard":"0","type":"replica","hostname":"127.0.0.1","port_map":{"grpc":70000},"state":"SERVING"}`)
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.textContent.includes("70000 out of range") && document.body.textContent.includes("rack swap")`,
			chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// setState rewrites a tablet's state in etcd, as its agent would.
func setState(t *testing.T, a *app.App, alias, state string) {
	t.Helper()
	key := "/shardmesh/tablets/" + alias
	resp, err := a.Client.Get(context.Background(), key)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("get %s: %v", key, err)
	}
	var rec map[string]any
	if err := json.Unmarshal(resp.Kvs[0].Value, &rec); err != nil {
		t.Fatal(err)
	}
	rec["state"] = state
	b, _ := json.Marshal(rec)
	if _, err := a.Client.Put(context.Background(), key, string(b)); err != nil {
		t.Fatal(err)
	}
}

func put(t *testing.T, a *app.App, key, value string) {
	t.Helper()
	if _, err := a.Client.Put(context.Background(), "/shardmesh/"+key, value); err != nil {
		t.Fatal(err)
	}
}
