package xdscache

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
)

// TestNewGroupDoesNotHoldUpOthers: while a new node group's first
// snapshot builds (as when a dead replica's clients of many localities
// reconnect here), a topology change still reaches the groups already
// served, and the new group ends up with the change too.
func TestNewGroupDoesNotHoldUpOthers(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	b := topology.NewBuilder()
	put := func(key, value string) {
		t.Helper()
		if err := b.Put(key, []byte(value)); err != nil {
			t.Fatal(err)
		}
	}
	put("cells/zone1", `{"region":"r1","zone":"z1"}`)
	put("cells/zone2", `{"region":"r1","zone":"z2"}`)
	tablet := func(alias, state string) {
		put("tablets/"+alias, `{"keyspace":"ks","shard":"0","type":"replica","hostname":"h","port_map":{"grpc":1},"state":"`+state+`"}`)
	}
	tablet("zone1-0000000001", "SERVING")
	tablet("zone2-0000000002", "SERVING")
	c := NewCache(CacheOptions{Now: func() time.Time { return now }})
	c.OnTopology(b.Build(1))
	served := c.Register(&corev3.Node{Id: "a", UserAgentName: "grpc-go", UserAgentVersionType: &corev3.Node_UserAgentVersion{UserAgentVersion: "1.85.0"}, Locality: &corev3.Locality{Region: "r1", Zone: "z1"}})

	entered, release, registered := make(chan struct{}), make(chan struct{}), make(chan struct{})
	c.beforeFirstBuild = func() {
		close(entered)
		<-release
	}
	newcomer := &corev3.Node{Id: "b", UserAgentName: "grpc-go", UserAgentVersionType: &corev3.Node_UserAgentVersion{UserAgentVersion: "1.85.0"}, Locality: &corev3.Locality{Region: "r1", Zone: "z2"}}
	go func() {
		defer close(registered)
		c.Register(newcomer)
	}()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the new group's first build never started")
	}

	tablet("zone1-0000000001", "NOT_SERVING")
	topo2 := b.Build(2)
	applied := make(chan struct{})
	go func() {
		defer close(applied)
		c.OnTopology(topo2)
	}()
	select {
	case <-applied:
	case <-time.After(5 * time.Second):
		t.Fatal("a topology change waited for a new group's first build")
	}
	if got := endpoints(t, c, served.ID()); got != 1 {
		t.Errorf("the served group holds %d endpoints of ks/0/replica after zone1-0000000001 stopped serving, want 1", got)
	}

	close(release)
	select {
	case <-registered:
	case <-time.After(5 * time.Second):
		t.Fatal("the new group's registration never returned")
	}
	want, err := translate.Translate(topo2, translate.GroupOf(newcomer), now)
	if err != nil {
		t.Fatal(err)
	}
	snap, ok := c.Snapshot(translate.GroupOf(newcomer).ID())
	if !ok {
		t.Fatal("the new group has no snapshot")
	}
	for _, u := range typeURLs {
		got := snap.GetResources(u)
		if len(got) != len(want[u]) {
			t.Fatalf("%s: the new group holds %d resources, a fresh translation of the latest topology %d", u, len(got), len(want[u]))
		}
		for name, res := range want[u] {
			if !proto.Equal(got[name], res) {
				t.Errorf("%s %s: the new group's is not the latest topology's", u, name)
			}
		}
	}
}

// endpoints counts the endpoints a group's snapshot gives ks/0/replica.
func endpoints(t *testing.T, c *Cache, groupID string) int {
	t.Helper()
	snap, ok := c.Snapshot(groupID)
	if !ok {
		t.Fatalf("group %s has no snapshot", groupID)
	}
	cla, ok := snap.GetResources(resourcev3.EndpointType)["ks/0/replica"].(*endpointv3.ClusterLoadAssignment)
	if !ok {
		t.Fatal("no assignment ks/0/replica")
	}
	n := 0
	for _, l := range cla.GetEndpoints() {
		n += len(l.GetLbEndpoints())
	}
	return n
}
