package xdscache_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

// benchFleet puts keyspaces × shards × 15 tablets (a primary, 9 replicas,
// 5 rdonly over 9 cells in 3 regions) into a Builder.
func benchFleet(b *testing.B, keyspaces, shards int) *topology.Builder {
	tb := topology.NewBuilder()
	for c := range 9 {
		tb.Put(fmt.Sprintf("cells/z%d", c), []byte(fmt.Sprintf(`{"region":"r%d","zone":"z%d"}`, c/3, c)))
	}
	for k := range keyspaces {
		for s := range shards {
			name := "0"
			if shards > 1 {
				lo, hi := s*256/shards, (s+1)*256/shards
				name = fmt.Sprintf("%02x-%02x", lo, hi)
				if lo == 0 {
					name = fmt.Sprintf("-%02x", hi)
				}
				if hi == 256 {
					name = fmt.Sprintf("%02x-", lo)
				}
			}
			for t := range 15 {
				typ := "replica"
				if t == 0 {
					typ = "primary"
				} else if t > 9 {
					typ = "rdonly"
				}
				rec, _ := json.Marshal(map[string]any{"keyspace": fmt.Sprintf("ks%02d", k), "shard": name, "type": typ, "hostname": "h",
					"port_map": map[string]int{"grpc": 1}, "state": "SERVING", "primary_term_start": "2026-11-20T10:00:00Z"})
				if err := tb.Put(fmt.Sprintf("tablets/z%d-%010d", t%9, (k*shards+s)*15+t), rec); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	return tb
}

// BenchmarkOneTabletChange: a 19,200-tablet topology served to the 9 Envoy
// groups; one tablet flips state per iteration and every group is rebuilt.
func BenchmarkOneTabletChange(b *testing.B) {
	tb := benchFleet(b, 40, 32)
	c := xdscache.NewCache(xdscache.CacheOptions{})
	c.OnTopology(tb.Build(1))
	for z := range 9 {
		c.Register(&corev3.Node{Id: fmt.Sprint(z), Locality: &corev3.Locality{Region: fmt.Sprintf("r%d", z/3), Zone: fmt.Sprintf("z%d", z)}})
	}
	b.ResetTimer()
	for i := range b.N {
		state := "NOT_SERVING"
		if i%2 == 1 {
			state = "SERVING"
		}
		rec, _ := json.Marshal(map[string]any{"keyspace": "ks00", "shard": "-08", "type": "replica", "hostname": "h",
			"port_map": map[string]int{"grpc": 1}, "state": state})
		tb.Put("tablets/z1-0000000001", rec)
		c.OnTopology(tb.Build(int64(i + 2)))
	}
}

// BenchmarkFreshBuild: what bare go-control-plane's way costs per node and
// change: a fresh translator builds one Envoy group's whole snapshot of
// the 19,200-tablet topology.
func BenchmarkFreshBuild(b *testing.B) {
	topo := benchFleet(b, 40, 32).Build(1)
	g := translate.GroupOf(&corev3.Node{Locality: &corev3.Locality{Region: "r0", Zone: "z0"}})
	b.ResetTimer()
	for range b.N {
		var tr xdscache.Translator
		if _, err := tr.Build(topo, g, time.Unix(0, 0)); err != nil {
			b.Fatal(err)
		}
	}
}
