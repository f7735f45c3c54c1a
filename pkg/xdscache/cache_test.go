package xdscache_test

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

// TestIdleGroupsAreForgotten: a node group whose last stream closed keeps
// being built for CacheOptions.GroupIdle, then is forgotten, so that
// localities or tenants nobody uses any more cost nothing; a node of it
// that connects again gets a fresh xdscache.
func TestIdleGroupsAreForgotten(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	c := xdscache.NewCache(xdscache.CacheOptions{Now: func() time.Time { return now }, GroupIdle: time.Minute})
	b := topology.NewBuilder()
	if err := b.Put("tablets/zone1-0000000001", []byte(`{"keyspace":"ks","shard":"0","type":"primary","hostname":"h","port_map":{"grpc":1},"state":"SERVING"}`)); err != nil {
		t.Fatal(err)
	}
	rev := int64(0)
	rebuild := func() {
		rev++
		c.OnTopology(b.Build(rev))
	}
	rebuild()
	node := &corev3.Node{Id: "a", UserAgentName: "grpc-go", Locality: &corev3.Locality{Region: "r1", Zone: "z1"}}
	g := c.Register(node)
	c.Register(node) // a second stream of the group
	known := func() bool {
		for _, k := range c.Groups() {
			if k.ID() == g.ID() {
				return true
			}
		}
		return false
	}

	c.Release(g.ID())
	now = now.Add(2 * time.Minute)
	rebuild()
	if !known() {
		t.Fatal("a group with an open stream was forgotten")
	}

	c.Release(g.ID()) // its last stream
	now = now.Add(30 * time.Second)
	rebuild()
	if !known() {
		t.Fatal("a group idle for 30s of its 1m was forgotten")
	}
	now = now.Add(time.Minute)
	rebuild()
	if known() {
		t.Fatal("a group idle for 1m30s was kept")
	}
	if _, ok := c.Snapshot(g.ID()); ok {
		t.Error("the forgotten group's snapshot is still held")
	}

	c.Register(node)
	snap, ok := c.Snapshot(g.ID())
	if !ok {
		t.Fatal("a node of a forgotten group connected again and got no snapshot")
	}
	if len(snap.GetResources(resourcev3.ListenerType)) != 1 {
		t.Errorf("the new snapshot has %d listeners, want keyspace ks's", len(snap.GetResources(resourcev3.ListenerType)))
	}
}
