package xdscache_test

import (
	"fmt"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/weights"
	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

// New groups joining between two topologies, each at its own time and
// some seeing only their tenant's keyspaces (or, in a reconnect storm,
// several at once), must not make the next topology translate everything
// again: a change to one shard re-translates that shard only. Each
// group's first build used to end the generation of resolved shard
// environments, so the shards it did not see lost theirs, and the next
// rebuild of the whole fleet took 0.9 s instead of 5 ms.
func TestNewGroupsKeepWhatOthersTranslated(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	var stats xdscache.BuildStats
	c := xdscache.NewCache(xdscache.CacheOptions{Now: func() time.Time { return now }, OnBuild: func(s xdscache.BuildStats) { stats = s }})
	b := topology.NewBuilder()
	put := func(key, value string) {
		t.Helper()
		if err := b.Put(key, []byte(value)); err != nil {
			t.Fatal(err)
		}
	}
	put("cells/z1", `{"region":"r1","zone":"z1"}`)
	put("cells/z2", `{"region":"r1","zone":"z2"}`)
	tablet := func(ks, shard, typ, state string) string {
		return fmt.Sprintf(`{"keyspace":%q,"shard":%q,"type":%q,"hostname":"h","port_map":{"grpc":1},"state":%q}`, ks, shard, typ, state)
	}
	for k, ks := range []string{"orders", "users"} {
		put("keyspaces/"+ks, fmt.Sprintf(`{"tenant":"t%d"}`, k+1))
		for s, shard := range []string{"-40", "40-80", "80-c0", "c0-"} {
			for i, typ := range []string{"primary", "replica", "rdonly"} {
				put(fmt.Sprintf("tablets/z%d-%010d", 1+i%2, k*100+s*10+i), tablet(ks, shard, typ, "SERVING"))
			}
		}
	}
	c.OnTopology(b.Build(1)) // no group yet

	node := func(id, zone string) *corev3.Node {
		return &corev3.Node{Id: id, Locality: &corev3.Locality{Region: "r1", Zone: zone}}
	}
	for _, g := range []struct{ zone, tenant string }{{"z1", "t1"}, {"z2", "t1"}, {"z1", "t2"}} {
		now = now.Add(time.Second)
		c.RegisterAs(node(g.zone+g.tenant, g.zone), translate.Group{Region: "r1", Zone: g.zone, Tenant: g.tenant, Kind: "envoy"})
	}

	if got := c.TakeTranslated(); got.Clusters == 0 {
		t.Fatalf("the new groups translated %+v, want their clusters", got)
	}
	now = now.Add(time.Second)
	put("tablets/z2-0000000101", tablet("users", "-40", "replica", "NOT_SERVING"))
	c.OnTopology(b.Build(2))
	if got := stats.Translated; got.Clusters != 0 || got.Assignments > len(weights.Classes) {
		t.Errorf("a replica of users/-40 went NOT_SERVING and the rebuild translated %+v; want no cluster and at most that shard's %d assignments (one per class)",
			got, len(weights.Classes))
	}
}
