package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
)

const prefix = "/shardmesh/"

// bufferWindow is commerce's buffer_window: how long writes ride through a
// shard without a primary (the route's retry policy spans about this).
const bufferWindow = "5s"

// tablet is a simulated tablet: a real gRPC server and an agent that keeps
// the tablet's record in etcd under a lease while it lives.
type tablet struct {
	testgrpc.UnimplementedTestServiceServer
	alias, keyspace, shard, typ, cell string
	port                              uint32

	mu    sync.Mutex // guards srv, lease, rec
	srv   *grpc.Server
	lease clientv3.LeaseID
	rec   map[string]any
}

func (t *tablet) UnaryCall(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return &testgrpc.SimpleResponse{ServerId: t.alias}, nil
}

func startTablet(alias, keyspace, shard, typ string) (*tablet, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &tablet{alias: alias, keyspace: keyspace, shard: shard, typ: typ, cell: alias[:5], port: uint32(lis.Addr().(*net.TCPAddr).Port)}
	t.serve(lis)
	t.rec = map[string]any{"keyspace": keyspace, "shard": shard, "type": typ, "cell": t.cell, "hostname": "127.0.0.1",
		"port_map": map[string]any{"grpc": t.port}, "state": "SERVING", "replication": "semi-sync", "replication_lag_seconds": 0.2,
		"serving_since": "2026-11-20T10:00:00Z"}
	if t.cell == "zone3" { // the other region: async, further behind
		t.rec["replication"], t.rec["replication_lag_seconds"] = "async", 1.5
	}
	if typ == "primary" {
		t.rec["primary_term_start"] = "2026-11-20T10:00:00Z"
	}
	return t, nil
}

func (t *tablet) serve(lis net.Listener) {
	srv := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(srv, t)
	t.mu.Lock()
	t.srv = srv
	t.mu.Unlock()
	go func() { _ = srv.Serve(lis) }()
}

// stop stops the tablet's gRPC server: its connections break.
func (t *tablet) stop() {
	t.mu.Lock()
	srv := t.srv
	t.mu.Unlock()
	srv.Stop()
}

// crash is a tablet host failing: the process stops serving and its agent's
// lease is revoked, so its record disappears.
func (t *tablet) crash(ctx context.Context, cli *clientv3.Client) error {
	t.stop()
	return t.die(ctx, cli)
}

// restart brings a crashed tablet back on its port; its agent registers
// again with fields changed (a former primary returns as a replica).
func (t *tablet) restart(ctx context.Context, cli *clientv3.Client, fields map[string]any) error {
	lis, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", t.port))
	if err != nil {
		return fmt.Errorf("tablet %s: %w", t.alias, err)
	}
	t.serve(lis)
	t.mu.Lock()
	for k, v := range fields {
		if v == nil {
			delete(t.rec, k)
		} else {
			t.rec[k] = v
		}
	}
	t.mu.Unlock()
	return t.register(ctx, cli)
}

// register writes the tablet's record under a fresh lease kept alive until
// ctx ends or the agent stops: when the agent dies, the record expires.
func (t *tablet) register(ctx context.Context, cli *clientv3.Client) error {
	lease, err := cli.Grant(ctx, 5)
	if err != nil {
		return err
	}
	if _, err := cli.KeepAlive(ctx, lease.ID); err != nil {
		return err
	}
	t.mu.Lock()
	t.lease = lease.ID
	t.mu.Unlock()
	return t.write(ctx, cli, nil)
}

// write updates fields of the record (under the current lease).
func (t *tablet) write(ctx context.Context, cli *clientv3.Client, fields map[string]any) error {
	t.mu.Lock()
	for k, v := range fields {
		t.rec[k] = v
	}
	b, err := json.Marshal(t.rec)
	lease := t.lease
	t.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = cli.Put(ctx, prefix+"tablets/"+t.alias, string(b), clientv3.WithLease(lease))
	return err
}

// die stops the agent as a crash would: its lease is revoked and the
// record disappears.
func (t *tablet) die(ctx context.Context, cli *clientv3.Client) error {
	t.mu.Lock()
	lease := t.lease
	t.mu.Unlock()
	_, err := cli.Revoke(ctx, lease)
	return err
}

// fleet is the demo's topology: keyspace commerce, shards -80 and 80-,
// 3 cells in 2 regions.
func fleet() [][4]string {
	return [][4]string{
		{"zone1-0000000101", "commerce", "-80", "primary"},
		{"zone1-0000000102", "commerce", "-80", "replica"},
		{"zone2-0000000201", "commerce", "-80", "replica"},
		{"zone3-0000000301", "commerce", "-80", "replica"},
		{"zone2-0000000211", "commerce", "80-", "primary"},
		{"zone1-0000000111", "commerce", "80-", "replica"},
		{"zone2-0000000212", "commerce", "80-", "replica"},
		{"zone3-0000000311", "commerce", "80-", "replica"},
	}
}

var cells = map[string]string{
	"zone1": `{"region":"us-east-1","zone":"us-east-1a"}`,
	"zone2": `{"region":"us-east-1","zone":"us-east-1b"}`,
	"zone3": `{"region":"us-west-2","zone":"us-west-2a"}`,
}

func writeStatic(ctx context.Context, cli *clientv3.Client) error {
	for name, v := range cells {
		if _, err := cli.Put(ctx, prefix+"cells/"+name, v); err != nil {
			return err
		}
	}
	_, err := cli.Put(ctx, prefix+"keyspaces/commerce", `{"buffer_window":"`+bufferWindow+`","lag":{"degraded":"5s","max":"30s","min_serving":1}}`)
	return err
}

func since(start time.Time) string { return fmt.Sprintf("%4.1fs", time.Since(start).Seconds()) }
