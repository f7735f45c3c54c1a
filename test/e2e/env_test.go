package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/app"
	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// Cells of the test fleet: two zones in region r1, one in r2.
var cells = map[string]string{
	"zone1": `{"region":"r1","zone":"r1a"}`,
	"zone2": `{"region":"r1","zone":"r1b"}`,
	"zone3": `{"region":"r2","zone":"r2a"}`,
}

// tabletSpec is a tablet of the test fleet.
type tabletSpec struct {
	alias, keyspace, shard, typ string
}

var fleet = []tabletSpec{
	{"zone1-0000000101", "commerce", "-80", "primary"},
	{"zone1-0000000102", "commerce", "-80", "replica"},
	{"zone2-0000000201", "commerce", "-80", "replica"},
	{"zone3-0000000301", "commerce", "-80", "replica"},
	{"zone2-0000000211", "commerce", "80-", "primary"},
	{"zone1-0000000111", "commerce", "80-", "replica"},
	{"zone2-0000000212", "commerce", "80-", "replica"},
	{"zone1-0000000121", "customer", "0", "primary"},
	{"zone3-0000000321", "customer", "0", "replica"},
	// orders: for traffic-split tests, two replicas in zone1.
	{"zone2-0000000405", "orders", "0", "primary"},
	{"zone1-0000000401", "orders", "0", "replica"},
	{"zone1-0000000402", "orders", "0", "replica"},
	{"zone2-0000000403", "orders", "0", "replica"},
	{"zone3-0000000404", "orders", "0", "replica"},
	// orders2: where orders moves in the MoveTables-style tests, sharded.
	{"zone1-0000000501", "orders2", "-80", "primary"},
	{"zone1-0000000502", "orders2", "-80", "replica"},
	{"zone2-0000000511", "orders2", "80-", "primary"},
	{"zone1-0000000512", "orders2", "80-", "replica"},
}

// Client localities.
var (
	inR1A = xdstest.Node{ID: "app-r1a", Region: "r1", Zone: "r1a"}
	inR1B = xdstest.Node{ID: "app-r1b", Region: "r1", Zone: "r1b"}
	inR2A = xdstest.Node{ID: "app-r2a", Region: "r2", Zone: "r2a"}
)

// env is one xds-server (the real wiring, embedded etcd included) serving
// the test fleet, whose tablets are real gRPC servers.
type env struct {
	t        *testing.T
	app      *app.App
	backends xdstest.Backends
	records  map[string]map[string]any // alias -> last record written
	cfg      app.Config
	// nacksAllowed turns off the check that no client NACKed anything
	// (allowNACKs): for tests that NACK on purpose.
	nacksAllowed bool
}

func newEnv(t *testing.T, options ...func(*app.Config)) *env {
	t.Helper()
	aliases := make([]string, len(fleet))
	for i, f := range fleet {
		aliases[i] = f.alias
	}
	e := &env{t: t, backends: xdstest.StartBackends(t, aliases...), records: map[string]map[string]any{}}
	e.cfg = app.Config{
		EmbeddedEtcdAddr: "127.0.0.1:0",
		EtcdDataDir:      t.TempDir(),
		XDSAddr:          "127.0.0.1:0",
		AdminAddr:        "127.0.0.1:0",
		HoldOff:          time.Millisecond,
		MaxDelay:         10 * time.Millisecond,
		Logger:           testLogger(),
	}
	for _, o := range options {
		o(&e.cfg)
	}
	e.start()
	// Registered before any client: cleanups run last-in first-out, so
	// every client of the test has closed when it runs.
	t.Cleanup(e.checkNoNACKs)
	for name, v := range cells {
		e.put("cells/"+name, v)
	}
	e.put("keyspaces/commerce", `{"lag":{"degraded":"5s","max":"30s","min_serving":1}}`)
	for _, f := range fleet {
		r := map[string]any{
			"keyspace": f.keyspace, "shard": f.shard, "type": f.typ, "cell": f.alias[:5],
			"hostname": "127.0.0.1", "port_map": map[string]any{"grpc": e.backends[f.alias].Port},
			"state": "SERVING", "replication": "semi-sync", "replication_lag_seconds": 0.1,
			"serving_since": "2026-11-20T10:00:00Z",
		}
		if f.typ == "primary" {
			r["primary_term_start"] = "2026-11-20T10:00:00Z"
		}
		e.putTablet(f.alias, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.app.WaitReady(ctx); err != nil {
		t.Fatalf("xds-server never synced: %v", err)
	}
	waitRevision(t, e)
	return e
}

func testLogger() *slog.Logger {
	if os.Getenv("E2E_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (e *env) start() {
	e.t.Helper()
	a, err := app.Start(context.Background(), e.cfg)
	if err != nil {
		e.t.Fatalf("start xds-server: %v", err)
	}
	e.app = a
	e.t.Cleanup(a.Close)
}

// allowNACKs exempts a test that NACKs on purpose from checkNoNACKs.
func (e *env) allowNACKs() { e.nacksAllowed = true }

// checkNoNACKs fails the test if any client NACKed any response
// (shardmesh_nacks_total above zero): every client of every family must
// accept everything it is sent. Run with E2E_LOG=1 to see the NACKs.
func (e *env) checkNoNACKs() {
	if e.nacksAllowed || e.app.AdminAddr == nil {
		return
	}
	if n := sum(scrape(e.t, e), "shardmesh_nacks_total", nil); n != 0 {
		e.t.Errorf("clients NACKed %v responses during the test; every client must accept everything it is sent", n)
	}
}

// put writes a raw value under the prefix.
func (e *env) put(key, value string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.app.Client.Put(ctx, "/shardmesh/"+key, value); err != nil {
		e.t.Fatalf("put %s: %v", key, err)
	}
}

func (e *env) putTablet(alias string, r map[string]any) {
	e.t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		e.t.Fatal(err)
	}
	e.records[alias] = r
	e.put("tablets/"+alias, string(b))
}

// update rewrites a tablet's record with some fields changed.
func (e *env) update(alias string, fields map[string]any) {
	e.t.Helper()
	r := map[string]any{}
	for k, v := range e.records[alias] {
		r[k] = v
	}
	for k, v := range fields {
		r[k] = v
	}
	e.putTablet(alias, r)
}

func (e *env) dial(n xdstest.Node, keyspace string) *xdstest.Client {
	return xdstest.Dial(e.t, e.app.XDSAddr.String(), n, keyspace, e.backends)
}

// admin fetches a JSON admin view.
func (e *env) admin(path string, v any) {
	e.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s%s", e.app.AdminAddr, path))
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
}

// routesTo waits until every one of n calls goes to want.
func routesTo(t *testing.T, c *xdstest.Client, want string, headers ...string) {
	t.Helper()
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := c.Count(20, headers...)
		return got.Only(want), fmt.Sprintf("headers %q: calls went to %v, want all to %s", headers, got, want)
	})
}
