package vitesstest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	querypb "vitess.io/vitess/go/vt/proto/query"
	queryservicepb "vitess.io/vitess/go/vt/proto/queryservice"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"
	"vitess.io/vitess/go/vt/topo"
	_ "vitess.io/vitess/go/vt/topo/etcd2topo" // registers "etcd2", as vtctld does
	"vitess.io/vitess/go/vt/topo/topoproto"

	"github.com/shardmesh/shardmesh/internal/xdstest"
)

const timeout = 10 * time.Second

// TB is the part of testing.TB the harness uses, so that a program (the
// demo) can drive it as well as a test.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Cluster is a Vitess topology in etcd, written through Vitess's topo.Server.
type Cluster struct {
	t  TB
	TS *topo.Server
}

// NewCluster opens the Vitess topology whose global root is globalRoot on
// the etcd at endpoint ("host:port") and closes it when the test ends.
func NewCluster(t TB, endpoint, globalRoot string) *Cluster {
	t.Helper()
	ts, err := topo.OpenServer("etcd2", strings.TrimPrefix(endpoint, "http://"), globalRoot)
	if err != nil {
		t.Fatalf("open vitess topo: %v", err)
	}
	t.Cleanup(ts.Close)
	return &Cluster{t: t, TS: ts}
}

func (c *Cluster) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), timeout)
}

// must fails the test on err, naming what was being done.
func (c *Cluster) must(what string, err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatalf("vitess topo: %s: %v", what, err)
	}
}

// AddCell creates a cell whose topology lives under root on the same etcd.
func (c *Cluster) AddCell(name, endpoint, root string) {
	ctx, cancel := c.ctx()
	defer cancel()
	c.must("create cell "+name, c.TS.CreateCellInfo(ctx, name, &topodatapb.CellInfo{ServerAddress: strings.TrimPrefix(endpoint, "http://"), Root: root}))
}

// AddKeyspace creates a keyspace with a durability policy and its shards.
func (c *Cluster) AddKeyspace(name, durability string, shards ...string) {
	ctx, cancel := c.ctx()
	defer cancel()
	c.must("create keyspace "+name, c.TS.CreateKeyspace(ctx, name, &topodatapb.Keyspace{DurabilityPolicy: durability}))
	for _, s := range shards {
		c.must("create shard "+name+"/"+s, c.TS.CreateShard(ctx, name, s))
	}
}

// Tablet is a running tablet: a gRPC server with a counted test backend
// and a scripted health stream, registered in the topology.
type Tablet struct {
	Alias   *topodatapb.TabletAlias
	Backend *xdstest.Backend
	Health  *HealthServer
	Record  *topodatapb.Tablet
	srv     *grpc.Server
}

// AliasString is the tablet's alias, "<cell>-<uid>".
func (tb *Tablet) AliasString() string { return topoproto.TabletAliasString(tb.Alias) }

// Stop stops the tablet's gRPC server: its health stream breaks and new
// ones are refused, as when vttablet dies.
func (tb *Tablet) Stop() { tb.srv.Stop() }

// StartTablet starts a tablet's gRPC server on 127.0.0.1 and creates its
// record (serving health, lag 0; a primary gets a term now). The server
// stops when the test ends.
func (c *Cluster) StartTablet(alias, keyspace, shard string, typ topodatapb.TabletType, tags map[string]string) *Tablet {
	c.t.Helper()
	a, err := topoproto.ParseTabletAlias(alias)
	c.must("parse alias "+alias, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	c.must("listen", err)
	port := lis.Addr().(*net.TCPAddr).Port
	tb := &Tablet{Alias: a, Backend: &xdstest.Backend{Alias: alias, Port: uint32(port)}}
	rec := &topodatapb.Tablet{
		Alias: a, Hostname: "127.0.0.1", PortMap: map[string]int32{"grpc": int32(port), "vt": int32(port)},
		Keyspace: keyspace, Shard: shard, Type: typ, Tags: tags, MysqlHostname: "127.0.0.1", MysqlPort: 3306,
	}
	resp := &querypb.StreamHealthResponse{
		Target:        &querypb.Target{Keyspace: keyspace, Shard: shard, TabletType: typ, Cell: a.Cell},
		Serving:       true,
		TabletAlias:   a,
		RealtimeStats: &querypb.RealtimeStats{},
	}
	if typ == topodatapb.TabletType_PRIMARY {
		now := time.Now()
		rec.PrimaryTermStartTime = &vttimepb.Time{Seconds: now.Unix(), Nanoseconds: int32(now.Nanosecond())}
		resp.PrimaryTermStartTimestamp = now.Unix()
	}
	tb.Record, tb.Health = rec, NewHealthServer(resp)
	tb.srv = grpc.NewServer()
	testgrpc.RegisterTestServiceServer(tb.srv, tb.Backend)
	queryservicepb.RegisterQueryServer(tb.srv, tb.Health)
	go func() { _ = tb.srv.Serve(lis) }()
	c.t.Cleanup(tb.srv.Stop)
	ctx, cancel := c.ctx()
	defer cancel()
	c.must("create tablet "+alias, c.TS.CreateTablet(ctx, rec))
	if typ == topodatapb.TabletType_PRIMARY {
		c.setShardPrimary(ctx, keyspace, shard, a, rec.PrimaryTermStartTime)
	}
	return tb
}

func (c *Cluster) setShardPrimary(ctx context.Context, keyspace, shard string, a *topodatapb.TabletAlias, term *vttimepb.Time) {
	_, err := c.TS.UpdateShardFields(ctx, keyspace, shard, func(si *topo.ShardInfo) error {
		si.PrimaryAlias, si.PrimaryTermStartTime = a, term
		return nil
	})
	c.must(fmt.Sprintf("set primary of %s/%s", keyspace, shard), err)
}

// Restart stops the tablet's server and starts it again on a new port
// with the same backend and health, then rewrites the tablet's port_map in
// the topology, as a vttablet restarted elsewhere re-registers itself.
func (c *Cluster) Restart(tb *Tablet) {
	c.t.Helper()
	tb.srv.Stop()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	c.must("listen", err)
	port := lis.Addr().(*net.TCPAddr).Port
	tb.Backend.Port = uint32(port)
	tb.srv = grpc.NewServer()
	testgrpc.RegisterTestServiceServer(tb.srv, tb.Backend)
	queryservicepb.RegisterQueryServer(tb.srv, tb.Health)
	go func() { _ = tb.srv.Serve(lis) }()
	c.t.Cleanup(tb.srv.Stop)
	ctx, cancel := c.ctx()
	defer cancel()
	_, err = c.TS.UpdateTabletFields(ctx, tb.Alias, func(t *topodatapb.Tablet) error {
		t.PortMap = map[string]int32{"grpc": int32(port), "vt": int32(port)}
		return nil
	})
	c.must("update tablet "+tb.AliasString(), err)
}

// SetType changes a tablet's type in the topology, and, with term, its
// primary term start.
func (c *Cluster) SetType(tb *Tablet, typ topodatapb.TabletType, term time.Time) {
	c.t.Helper()
	ctx, cancel := c.ctx()
	defer cancel()
	_, err := c.TS.UpdateTabletFields(ctx, tb.Alias, func(t *topodatapb.Tablet) error {
		t.Type = typ
		if !term.IsZero() {
			t.PrimaryTermStartTime = &vttimepb.Time{Seconds: term.Unix(), Nanoseconds: int32(term.Nanosecond())}
		}
		return nil
	})
	c.must("update tablet "+tb.AliasString(), err)
}

// SetShardPrimary records a shard's new primary and term, as a reparent does.
func (c *Cluster) SetShardPrimary(tb *Tablet, term time.Time) {
	c.t.Helper()
	ctx, cancel := c.ctx()
	defer cancel()
	c.setShardPrimary(ctx, tb.Record.Keyspace, tb.Record.Shard, tb.Alias,
		&vttimepb.Time{Seconds: term.Unix(), Nanoseconds: int32(term.Nanosecond())})
}

// DeleteTablet removes a tablet's record.
func (c *Cluster) DeleteTablet(tb *Tablet) {
	c.t.Helper()
	ctx, cancel := c.ctx()
	defer cancel()
	c.must("delete tablet "+tb.AliasString(), c.TS.DeleteTablet(ctx, tb.Alias))
}
