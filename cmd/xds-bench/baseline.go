package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/topowatch"
	"github.com/shardmesh/shardmesh/pkg/translate"
)

// baseline is go-control-plane used bare, as its example server does: a
// SnapshotCache keyed by node ID, and on every change a snapshot rebuilt
// from scratch for every connected node (a fresh translation, no sharing,
// no memo). It is fed by the same etcd watch and serves the same resources.
type baseline struct {
	cache cache.SnapshotCache
	grpc  *grpc.Server
	addr  net.Addr

	mu    sync.Mutex // guards topo; held while rebuilding
	topo  *topology.Topology
	nmu   sync.Mutex // guards nodes; never held while calling the cache
	nodes map[string]*corev3.Node
}

func startBaseline(ctx context.Context, cli *clientv3.Client) (*baseline, error) {
	b := &baseline{cache: cache.NewSnapshotCache(false, cache.IDHash{}, nil), nodes: map[string]*corev3.Node{}}
	cb := serverv3.CallbackFuncs{
		StreamRequestFunc: func(_ int64, r *discoveryv3.DiscoveryRequest) error {
			b.register(r.GetNode())
			return nil
		},
		StreamDeltaRequestFunc: func(_ int64, r *discoveryv3.DeltaDiscoveryRequest) error {
			b.register(r.GetNode())
			return nil
		},
	}
	b.grpc = grpc.NewServer(grpc.MaxConcurrentStreams(1 << 20))
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(b.grpc, serverv3.NewServer(ctx, b.cache, cb))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b.addr = lis.Addr()
	go func() { _ = b.grpc.Serve(lis) }()
	w := topowatch.New(topowatch.Config{Client: cli, Logger: slog.New(slog.DiscardHandler)}, topowatch.ObserverFunc(b.onTopology))
	go func() { _ = w.Run(ctx) }()
	return b, nil
}

// register builds a new node's snapshot when it first connects. The
// build runs outside the request callback: the cache may be answering
// this very stream.
func (b *baseline) register(n *corev3.Node) {
	if n == nil {
		return
	}
	b.nmu.Lock()
	_, known := b.nodes[n.GetId()]
	b.nodes[n.GetId()] = n
	b.nmu.Unlock()
	if !known {
		go func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.topo != nil {
				b.rebuild(n)
			}
		}()
	}
}

func (b *baseline) onTopology(t *topology.Topology) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.topo = t
	b.nmu.Lock()
	nodes := make([]*corev3.Node, 0, len(b.nodes))
	for _, n := range b.nodes {
		nodes = append(nodes, n)
	}
	b.nmu.Unlock()
	for _, n := range nodes {
		b.rebuild(n)
	}
}

// rebuild translates everything for one node from scratch. b.mu is held.
func (b *baseline) rebuild(n *corev3.Node) {
	// Fresh: nothing is reused between nodes or changes.
	res, err := translate.Translate(b.topo, translate.GroupOf(n), time.Now())
	if err != nil {
		return
	}
	// As a bare server would: each type's version is a hash of its
	// content, and the cache hashes every resource itself.
	snap := &cache.Snapshot{}
	for typ, named := range res {
		items := map[string]types.ResourceWithTTL{}
		h := sha256.New()
		for _, name := range slices.Sorted(maps.Keys(named)) {
			items[name] = types.ResourceWithTTL{Resource: named[name]}
			bs, _ := proto.MarshalOptions{Deterministic: true}.Marshal(named[name])
			h.Write([]byte(name))
			h.Write(bs)
		}
		snap.Resources[cache.GetResponseType(typ)] = cache.Resources{Version: hex.EncodeToString(h.Sum(nil)[:8]), Items: items}
	}
	_ = b.cache.SetSnapshot(context.Background(), n.GetId(), snap)
}

func (b *baseline) stop() { b.grpc.Stop() }
