package xdscache_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/jonboulle/clockwork"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

// TestRampsStepWithoutTopologyChanges: a tablet that just became eligible
// ramps 10% → 32% → 55% → 77% → 100% over its 40 s window as the (fake)
// clock advances, with no new topology: RunPhaseTimer rebuilds at each step.
func TestRampsStepWithoutTopologyChanges(t *testing.T) {
	start := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(start)
	b := topology.NewBuilder()
	put := func(key, value string) {
		t.Helper()
		if err := b.Put(key, []byte(value)); err != nil {
			t.Fatal(err)
		}
	}
	put("cells/zone1", `{"region":"r1","zone":"r1a"}`)
	put("keyspaces/ks", `{"ramp":{"window":"40s","min_weight_percent":10}}`)
	put("tablets/zone1-0000000001", fmt.Sprintf(`{"keyspace":"ks","shard":"0","type":"replica","hostname":"10.0.0.1",
		"port_map":{"grpc":1},"state":"SERVING","serving_since":%q}`, start.Format(time.RFC3339)))

	c := xdscache.NewCache(xdscache.CacheOptions{Now: clock.Now})
	c.OnTopology(b.Build(1))
	node := &corev3.Node{Id: "envoy-1", Locality: &corev3.Locality{Region: "r1", Zone: "r1a"}}
	g := c.Register(node)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = c.RunPhaseTimer(ctx, clock) }()

	weight := func() uint32 {
		snap, ok := c.Snapshot(g.ID())
		if !ok {
			t.Fatal("no snapshot")
		}
		m, err := xdscache.Decode(resourcev3.EndpointType, snap.GetResources(resourcev3.EndpointType)["ks/0/replica"])
		if err != nil {
			t.Fatal(err)
		}
		cla := m.(*endpointv3.ClusterLoadAssignment)
		return cla.GetEndpoints()[0].GetLbEndpoints()[0].GetLoadBalancingWeight().GetValue()
	}
	for i, want := range []uint32{10, 32, 55, 77, 100} {
		if i > 0 {
			if err := clock.BlockUntilContext(ctx, 1); err != nil {
				t.Fatal(err)
			}
			clock.Advance(10 * time.Second)
		}
		deadline := time.Now().Add(5 * time.Second)
		for weight() != want && time.Now().Before(deadline) {
			if err := clock.BlockUntilContext(ctx, 1); err != nil { // RunPhaseTimer has rebuilt and sleeps again
				t.Fatal(err)
			}
		}
		if got := weight(); got != want {
			t.Fatalf("at %v: endpoint weight %d, want %d", clock.Since(start), got, want)
		}
	}
}
