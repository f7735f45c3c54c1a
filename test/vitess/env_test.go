// Package vitess_test runs xds-server with --source=vitess against a Vitess
// topology written by Vitess's own topo library into the embedded etcd, with
// tablets that answer StreamHealth, and checks what grpc-go xDS clients do.
package vitess_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/shardmesh/shardmesh/internal/app"
	"github.com/shardmesh/shardmesh/internal/vitesstest"
	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

const wait = 15 * time.Second // for conditions that take milliseconds when all is well

// Cells: two zones in region r1, one in r2, placed by the shardmesh overlay.
var cells = map[string]string{
	"zone1": `{"region":"r1","zone":"r1a"}`,
	"zone2": `{"region":"r1","zone":"r1b"}`,
	"zone3": `{"region":"r2","zone":"r2a"}`,
}

var (
	primary = topodatapb.TabletType_PRIMARY
	replica = topodatapb.TabletType_REPLICA
)

// fleet is the Vitess cluster of every test.
var fleet = []struct {
	alias, keyspace, shard string
	typ                    topodatapb.TabletType
}{
	{"zone1-0000000101", "commerce", "-80", primary},
	{"zone1-0000000102", "commerce", "-80", replica},
	{"zone2-0000000201", "commerce", "-80", replica},
	{"zone3-0000000301", "commerce", "-80", replica},
	{"zone2-0000000211", "commerce", "80-", primary},
	{"zone1-0000000111", "commerce", "80-", replica},
	{"zone1-0000000401", "orders", "0", primary},
	{"zone1-0000000501", "orders2", "0", primary},
}

// Client localities.
var (
	inR1A = xdstest.Node{ID: "app-r1a", Region: "r1", Zone: "r1a"}
	inR2A = xdstest.Node{ID: "app-r2a", Region: "r2", Zone: "r2a"}
)

// env is an xds-server reading a Vitess topology from its embedded etcd.
type env struct {
	t        *testing.T
	app      *app.App
	vt       *vitesstest.Cluster
	tablets  map[string]*vitesstest.Tablet
	backends xdstest.Backends
}

func newEnv(t *testing.T) *env {
	t.Helper()
	a, err := app.Start(context.Background(), app.Config{
		Source:           app.SourceVitess,
		EmbeddedEtcdAddr: "127.0.0.1:0",
		EtcdDataDir:      t.TempDir(),
		XDSAddr:          "127.0.0.1:0",
		AdminAddr:        "127.0.0.1:0",
		HoldOff:          time.Millisecond,
		MaxDelay:         10 * time.Millisecond,
		Logger:           testLogger(),
	})
	if err != nil {
		t.Fatalf("start xds-server: %v", err)
	}
	t.Cleanup(a.Close)
	e := &env{t: t, app: a, tablets: map[string]*vitesstest.Tablet{}, backends: xdstest.Backends{}}
	addr := a.Etcd.ClientAddr()
	e.vt = vitesstest.NewCluster(t, addr, "/vitess/global")
	for name, placement := range cells {
		e.vt.AddCell(name, addr, "/vitess/"+name)
		e.put("/shardmesh/cells/"+name, placement)
	}
	e.put("/shardmesh/keyspaces/commerce", `{"lag":{"degraded":"5s","max":"30s","min_serving":1}}`)
	e.vt.AddKeyspace("commerce", "semi_sync", "-80", "80-")
	e.vt.AddKeyspace("orders", "semi_sync", "0")
	e.vt.AddKeyspace("orders2", "semi_sync", "0")
	for _, f := range fleet {
		tb := e.vt.StartTablet(f.alias, f.keyspace, f.shard, f.typ, nil)
		e.tablets[f.alias], e.backends[f.alias] = tb, tb.Backend
	}
	e.eventually("every tablet serving", func() (bool, string) {
		topo := a.Cache.Topology()
		if topo == nil {
			return false, "no topology yet"
		}
		for _, f := range fleet {
			if tb := find(topo, f.alias); tb == nil || tb.State != topology.StateServing {
				return false, fmt.Sprintf("%s: %+v", f.alias, tb)
			}
		}
		return true, ""
	})
	return e
}

func testLogger() *slog.Logger {
	if os.Getenv("E2E_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (e *env) put(key, value string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := e.app.Client.Put(ctx, key, value); err != nil {
		e.t.Fatalf("put %s: %v", key, err)
	}
}

func (e *env) eventually(what string, cond func() (bool, string)) {
	e.t.Helper()
	xdstest.Eventually(e.t, wait, func() (bool, string) {
		ok, why := cond()
		return ok, what + ": " + why
	})
}

func (e *env) dial(n xdstest.Node, keyspace string) *xdstest.Client {
	return xdstest.Dial(e.t, e.app.XDSAddr.String(), n, keyspace, e.backends)
}

func find(topo *topology.Topology, alias string) *topology.Tablet {
	for _, s := range topo.Shards {
		for _, t := range s.Tablets {
			if t.Alias == alias {
				return t
			}
		}
	}
	return nil
}

// routesTo waits until every one of 20 calls goes to one of want.
func routesTo(t *testing.T, c *xdstest.Client, want []string, headers ...string) {
	t.Helper()
	xdstest.Eventually(t, wait, func() (bool, string) {
		got := c.Count(20, headers...)
		return got.Only(want...), fmt.Sprintf("headers %q: calls went to %v, want only %v", headers, got, want)
	})
}
