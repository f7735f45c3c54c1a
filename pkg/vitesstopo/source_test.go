package vitesstopo_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	querypb "vitess.io/vitess/go/vt/proto/query"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/shardmesh/shardmesh/internal/embedetcd"
	"github.com/shardmesh/shardmesh/internal/vitesstest"
	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/vitesstopo"
)

const timeout = 20 * time.Second // for conditions that take milliseconds when all is well

// latest keeps every topology a Source published.
type latest struct {
	mu      sync.Mutex // guards the fields below
	all     []*topology.Topology
	changed chan struct{} // closed at the next publication
}

func newLatest() *latest { return &latest{changed: make(chan struct{})} }

func (l *latest) OnTopology(t *topology.Topology) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, t)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *latest) first() *topology.Topology {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.all) == 0 {
		return nil
	}
	return l.all[0]
}

// wait returns the latest topology once cond returns "" for it, failing
// with the last reason if no publication satisfies it within the timeout.
func (l *latest) wait(t *testing.T, cond func(*topology.Topology) string) *topology.Topology {
	t.Helper()
	deadline := time.After(timeout)
	why := "nothing published"
	for {
		l.mu.Lock()
		var topo *topology.Topology
		if len(l.all) > 0 {
			topo = l.all[len(l.all)-1]
		}
		changed := l.changed
		l.mu.Unlock()
		if topo != nil {
			if why = cond(topo); why == "" {
				return topo
			}
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no topology satisfied the condition within %v: %s", timeout, why)
		}
	}
}

// env is an embedded etcd holding a Vitess topology, and a Source reading it.
type env struct {
	etcd    *embedetcd.Server
	cli     *clientv3.Client
	vt      *vitesstest.Cluster
	pubs    *latest
	logs    *strings.Builder
	logsMu  *sync.Mutex
	started bool
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := embedetcd.Start(ctx, embedetcd.Config{Dir: t.TempDir(), ClientAddr: "127.0.0.1:0", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	e := &env{etcd: srv, cli: cli, vt: vitesstest.NewCluster(t, srv.ClientAddr(), "/vitess/global"),
		pubs: newLatest(), logs: &strings.Builder{}, logsMu: &sync.Mutex{}}
	e.vt.AddCell("zone1", srv.ClientAddr(), "/vitess/zone1")
	e.vt.AddCell("zone2", srv.ClientAddr(), "/vitess/zone2")
	return e
}

func (e *env) Write(p []byte) (int, error) {
	e.logsMu.Lock()
	defer e.logsMu.Unlock()
	return e.logs.Write(p)
}

func (e *env) logged() string {
	e.logsMu.Lock()
	defer e.logsMu.Unlock()
	return e.logs.String()
}

func (e *env) run(t *testing.T) {
	t.Helper()
	logger := slog.New(slog.NewMultiHandler(
		slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}),
		slog.NewTextHandler(e, nil)))
	src := vitesstopo.New(vitesstopo.Config{Client: e.cli, Logger: logger, HealthMaxBackoff: 200 * time.Millisecond}, e.pubs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = src.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(timeout):
			t.Error("Source.Run did not return after cancel")
		}
	})
}

func (e *env) put(t *testing.T, key, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	if _, err := e.cli.Put(ctx, key, value); err != nil {
		t.Fatal(err)
	}
}

func tablet(topo *topology.Topology, alias string) *topology.Tablet {
	for _, s := range topo.Shards {
		for _, t := range s.Tablets {
			if t.Alias == alias {
				return t
			}
		}
	}
	return nil
}

// serving is a condition: every alias is in the topology and SERVING.
func serving(aliases ...string) func(*topology.Topology) string {
	return func(topo *topology.Topology) string {
		for _, a := range aliases {
			tb := tablet(topo, a)
			if tb == nil {
				return a + " missing"
			}
			if tb.State != topology.StateServing {
				return fmt.Sprintf("%s is %s (%s)", a, tb.State, tb.HealthError)
			}
		}
		return ""
	}
}

// Every Vitess field shardmesh reads ends up in the model: cells placed by
// cells alias or overlay, tablet type, ports, term, schema version tag,
// durability, and health (serving, lag, health error) from the stream.
func TestMapsVitessTopologyAndHealth(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	if err := e.vt.TS.CreateCellsAlias(ctx, "r1", &topodatapb.CellsAlias{Cells: []string{"zone1"}}); err != nil {
		t.Fatal(err)
	}
	e.put(t, "/shardmesh/cells/zone2", `{"region":"r2","zone":"r2a"}`)
	e.put(t, "/shardmesh/keyspaces/commerce", `{"lag":{"max":"30s","degraded":"10s","min_serving":1}}`)
	e.vt.AddKeyspace("commerce", "semi_sync", "-80", "80-")
	primary := e.vt.StartTablet("zone1-0000000100", "commerce", "-80", topodatapb.TabletType_PRIMARY, nil)
	replica := e.vt.StartTablet("zone1-0000000101", "commerce", "-80", topodatapb.TabletType_REPLICA, map[string]string{"schema_version": "v7"})
	e.vt.StartTablet("zone2-0000000200", "commerce", "80-", topodatapb.TabletType_RDONLY, nil)
	e.run(t)

	topo := e.pubs.wait(t, serving("zone1-0000000100", "zone1-0000000101", "zone2-0000000200"))
	// The first publication waited for the tablets' health streams: a
	// restarted control plane does not first send every tablet unhealthy.
	if why := serving("zone1-0000000100", "zone1-0000000101", "zone2-0000000200")(e.pubs.first()); why != "" {
		t.Errorf("first publication: %s", why)
	}
	if c := topo.Cells["zone1"]; c.Region != "r1" || c.Zone != "zone1" {
		t.Errorf("zone1 placed at %+v, want region r1 (its cells alias), zone zone1", c)
	}
	if c := topo.Cells["zone2"]; c.Region != "r2" || c.Zone != "r2a" {
		t.Errorf("zone2 placed at %+v, want the overlay's r2/r2a", c)
	}
	if ks := topo.Keyspaces["commerce"]; ks == nil || ks.Lag.MinServing != 1 {
		t.Errorf("keyspace policy from the overlay not applied: %+v", ks)
	}
	p, r := tablet(topo, "zone1-0000000100"), tablet(topo, "zone1-0000000101")
	if p.Type != topology.TypePrimary || p.PrimaryTermStart.IsZero() || p.PortMap["grpc"] != primary.Backend.Port || p.PortMap["mysql"] != 3306 {
		t.Errorf("primary mapped to %+v", p)
	}
	if r.Type != topology.TypeReplica || r.SchemaVersion != "v7" || r.Replication != topology.ReplicationSemiSync || r.Hostname != "127.0.0.1" {
		t.Errorf("replica mapped to %+v", r)
	}
	if rd := tablet(topo, "zone2-0000000200"); rd.Type != topology.TypeRdonly || rd.Shard != "80-" || rd.Replication != "" {
		t.Errorf("rdonly mapped to %+v", rd)
	}

	// Health comes from the stream: lag, a health error, not serving.
	replica.Health.Set(func(r *querypb.StreamHealthResponse) { r.RealtimeStats.ReplicationLagSeconds = 12 })
	e.pubs.wait(t, func(topo *topology.Topology) string {
		if got := tablet(topo, "zone1-0000000101").ReplicationLag; got != 12*time.Second {
			return fmt.Sprintf("lag %v", got)
		}
		return ""
	})
	replica.Health.Set(func(r *querypb.StreamHealthResponse) {
		r.Serving, r.RealtimeStats.HealthError = false, "mysqld is down"
	})
	e.pubs.wait(t, func(topo *topology.Topology) string {
		if tb := tablet(topo, "zone1-0000000101"); tb.State != topology.StateNotServing || tb.HealthError != "mysqld is down" {
			return fmt.Sprintf("state %s, error %q", tb.State, tb.HealthError)
		}
		return ""
	})
	// A dead tablet: its stream fails and reconnecting fails too.
	primary.Stop()
	e.pubs.wait(t, func(topo *topology.Topology) string {
		if tb := tablet(topo, "zone1-0000000100"); tb.State != topology.StateNotServing || !strings.Contains(tb.HealthError, "health stream") {
			return fmt.Sprintf("state %s, error %q", tb.State, tb.HealthError)
		}
		return ""
	})
}

// A record that does not decode is reported with its key and skipped; a
// tablet whose health stream names another target is not routed; the rest
// keeps routing.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.vt.AddKeyspace("commerce", "", "0", "-80")
	e.vt.StartTablet("zone1-0000000100", "commerce", "0", topodatapb.TabletType_PRIMARY, nil)
	wrong := e.vt.StartTablet("zone1-0000000101", "commerce", "0", topodatapb.TabletType_REPLICA, nil)
	wrong.Health.Set(func(r *querypb.StreamHealthResponse) { r.Target.Shard = "-80" })
	const badKey = "/vitess/zone1/tablets/zone1-0000000199/Tablet"
	e.put(t, badKey, "\xff\xff\xff not a protobuf")
	e.put(t, "/vitess/zone2/tablets/zone2-0000000299/Tablet", string(mustMarshal(t, &topodatapb.Tablet{
		Alias: &topodatapb.TabletAlias{Cell: "zone2", Uid: 300}, Keyspace: "commerce", Shard: "0", Type: topodatapb.TabletType_REPLICA,
	})))
	e.run(t)

	topo := e.pubs.wait(t, serving("zone1-0000000100"))
	var keys []string
	for _, p := range topo.Problems {
		keys = append(keys, p.Key+": "+p.Err.Error())
	}
	got := strings.Join(keys, "\n")
	for _, want := range []string{
		badKey + ": vitess " + badKey + ": not a topodata.Tablet protobuf",
		"/vitess/zone2/tablets/zone2-0000000299/Tablet: vitess /vitess/zone2/tablets/zone2-0000000299/Tablet: alias: \"zone2-0000000300\" does not match",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems:\n%s\nwant one starting %q", got, want)
		}
	}
	if !strings.Contains(e.logged(), badKey) {
		t.Errorf("the bad record's key is not in the log")
	}
	tb := e.pubs.wait(t, func(topo *topology.Topology) string {
		if tb := tablet(topo, "zone1-0000000101"); tb == nil || tb.HealthError == "" || strings.HasPrefix(tb.HealthError, "health stream: no response") {
			return "no target mismatch yet"
		}
		return ""
	})
	if w := tablet(tb, "zone1-0000000101"); w.State != topology.StateNotServing || !strings.Contains(w.HealthError, "commerce/-80 does not match the topology record's commerce/0") {
		t.Errorf("tablet with another target: state %s, error %q; want NOT_SERVING naming both targets", w.State, w.HealthError)
	}
}

// A cell created after the Source started is followed: its root is listed
// and watched, and its tablets are routed.
func TestFollowsNewCell(t *testing.T) {
	e := newEnv(t)
	e.vt.AddKeyspace("commerce", "", "0")
	e.vt.StartTablet("zone1-0000000100", "commerce", "0", topodatapb.TabletType_PRIMARY, nil)
	e.run(t)
	e.pubs.wait(t, serving("zone1-0000000100"))

	e.vt.AddCell("zone3", e.etcd.ClientAddr(), "/vitess/cells/zone3")
	e.vt.StartTablet("zone3-0000000300", "commerce", "0", topodatapb.TabletType_REPLICA, nil)
	topo := e.pubs.wait(t, serving("zone1-0000000100", "zone3-0000000300"))
	if c := topo.Cells["zone3"]; c.Region != "zone3" || c.Zone != "zone3" {
		t.Errorf("zone3 placed at %+v, want its own name as region and zone (no alias, no overlay)", c)
	}
}

// While etcd is down the last Vitess records stay in force and health
// changes still reach the topology, as vtgate keeps routing on health when
// the topology service is unreachable.
func TestHealthPublishesWhileEtcdIsDown(t *testing.T) {
	e := newEnv(t)
	e.vt.AddKeyspace("commerce", "", "0")
	e.vt.StartTablet("zone1-0000000100", "commerce", "0", topodatapb.TabletType_PRIMARY, nil)
	replica := e.vt.StartTablet("zone1-0000000101", "commerce", "0", topodatapb.TabletType_REPLICA, nil)
	e.run(t)
	e.pubs.wait(t, serving("zone1-0000000100", "zone1-0000000101"))

	e.etcd.Close()
	replica.Health.Set(func(r *querypb.StreamHealthResponse) { r.Serving = false })
	e.pubs.wait(t, func(topo *topology.Topology) string {
		if tb := tablet(topo, "zone1-0000000101"); tb == nil || tb.State != topology.StateNotServing {
			return fmt.Sprintf("replica: %+v", tb)
		}
		if why := serving("zone1-0000000100")(topo); why != "" {
			return why
		}
		return ""
	})
}
