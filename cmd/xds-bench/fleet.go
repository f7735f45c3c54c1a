package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/shardmesh/shardmesh/internal/embedetcd"
	"github.com/shardmesh/shardmesh/internal/ops"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

// fleet is a synthetic topology: 3 regions × 3 zones, keyspaces of equal
// shards, each shard with a primary, one replica per zone and rdonly
// tablets, all on 127.0.0.1 (nothing is dialled: the benchmark measures
// the control plane, not data traffic).
type fleet struct {
	keyspaces, shards, rdonly int
}

var regions = []string{"r1", "r2", "r3"}

func cellName(i int) string { return fmt.Sprintf("z%d", i) } // 9 cells: z0..z8, region i/3

func (f fleet) keyspace(i int) string { return fmt.Sprintf("ks%02d", i) }

// shardName returns the i-th of n equal hex key ranges.
func shardName(i, n int) string {
	if n == 1 {
		return "0"
	}
	step := 256 / n
	b := func(v int) string {
		if v <= 0 || v >= 256 {
			return ""
		}
		return fmt.Sprintf("%02x", v)
	}
	return b(i*step) + "-" + b((i+1)*step)
}

func (f fleet) tabletsPerShard() int { return 1 + 9 + f.rdonly }

func (f fleet) size() int { return f.keyspaces * f.shards * f.tabletsPerShard() }

// alias of tablet t of shard s of keyspace k.
func (f fleet) alias(k, s, t int) string {
	cell := t % 9
	uid := (k*f.shards+s)*f.tabletsPerShard() + t
	return fmt.Sprintf("%s-%010d", cellName(cell), uid)
}

type tabletRec struct {
	Keyspace  string            `json:"keyspace"`
	Shard     string            `json:"shard"`
	Type      string            `json:"type"`
	Cell      string            `json:"cell"`
	Hostname  string            `json:"hostname"`
	PortMap   map[string]uint32 `json:"port_map"`
	State     string            `json:"state"`
	Repl      string            `json:"replication,omitempty"`
	Lag       float64           `json:"replication_lag_seconds"`
	TermStart string            `json:"primary_term_start,omitempty"`
}

// tablet returns the record of tablet t of shard s of keyspace k.
func (f fleet) tablet(k, s, t int, state string) tabletRec {
	typ, repl := "replica", "semi-sync"
	switch {
	case t == 0:
		typ, repl = "primary", ""
	case t > 9:
		typ, repl = "rdonly", "async"
	}
	r := tabletRec{Keyspace: f.keyspace(k), Shard: shardName(s, f.shards), Type: typ, Cell: cellName(t % 9),
		Hostname: "127.0.0.1", PortMap: map[string]uint32{"grpc": uint32(10000 + (k*f.shards+s)%50000)}, State: state, Repl: repl, Lag: 0.1}
	if typ == "primary" {
		r.TermStart = "2026-11-20T10:00:00Z"
	}
	return r
}

func (f fleet) records() []topology.Record {
	var recs []topology.Record
	add := func(key string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		recs = append(recs, topology.Record{Key: key, Value: b})
	}
	for i := range 9 {
		add(topology.CellsPrefix+cellName(i), map[string]string{"region": regions[i/3], "zone": cellName(i)})
	}
	for k := range f.keyspaces {
		add(topology.KeyspacesPrefix+f.keyspace(k), map[string]any{"lag": map[string]any{"degraded": "10s", "max": "30s", "min_serving": 1}})
		for s := range f.shards {
			for t := range f.tabletsPerShard() {
				add(topology.TabletsPrefix+f.alias(k, s, t), f.tablet(k, s, t, "SERVING"))
			}
		}
	}
	return recs
}

// fleetEtcd is an embedded etcd holding a fleet, with a client.
type fleetEtcd struct {
	etcd *embedetcd.Server
	cli  *clientv3.Client
	dir  string
}

// startFleetEtcd starts an embedded etcd in a temporary directory and
// writes the fleet's records into it; close stops it and removes the
// directory.
func startFleetEtcd(ctx context.Context, f fleet) (*fleetEtcd, int, error) {
	dir, err := os.MkdirTemp("", "xds-bench-")
	if err != nil {
		return nil, 0, err
	}
	fe := &fleetEtcd{dir: dir}
	if fe.etcd, err = embedetcd.Start(ctx, embedetcd.Config{Dir: dir, ClientAddr: "127.0.0.1:0", PeerAddr: "127.0.0.1:0"}); err != nil {
		fe.close()
		return nil, 0, err
	}
	if fe.cli, err = clientv3.New(clientv3.Config{Endpoints: fe.etcd.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()}); err != nil {
		fe.close()
		return nil, 0, err
	}
	recs := f.records()
	if err := ops.ApplyRecords(ctx, fe.cli, "/shardmesh/", recs); err != nil {
		fe.close()
		return nil, 0, err
	}
	return fe, len(recs), nil
}

func (fe *fleetEtcd) close() {
	if fe.cli != nil {
		fe.cli.Close()
	}
	if fe.etcd != nil {
		fe.etcd.Close()
	}
	os.RemoveAll(fe.dir)
}
