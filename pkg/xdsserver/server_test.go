package xdsserver

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

func tabletJSON(ks, shard, typ, cell string, port uint32, extra string) []byte {
	return []byte(fmt.Sprintf(`{"keyspace":%q,"shard":%q,"type":%q,"cell":%q,"hostname":"127.0.0.1",
		"port_map":{"grpc":%d},"state":"SERVING","replication":"semi-sync",
		"primary_term_start":"2026-11-20T10:00:00Z"%s}`, ks, shard, typ, cell, port, extra))
}

// TestGRPCClientRoutesByHeaders serves a topology fed straight into the
// cache (no etcd) and checks that grpc-go's xDS client accepts every
// resource and routes by x-tablet-type, x-shard and x-keyspace-id.
func TestGRPCClientRoutesByHeaders(t *testing.T) {
	bs := xdstest.StartBackends(t, "zone1-0000000001", "zone1-0000000002", "zone1-0000000011", "zone1-0000000012", "zone2-0000000003")
	b := topology.NewBuilder()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.Put("cells/zone1", []byte(`{"region":"r1","zone":"z1"}`)))
	must(b.Put("cells/zone2", []byte(`{"region":"r1","zone":"z2"}`)))
	must(b.Put("tablets/zone1-0000000001", tabletJSON("ks", "-80", "primary", "zone1", bs["zone1-0000000001"].Port, "")))
	must(b.Put("tablets/zone1-0000000002", tabletJSON("ks", "-80", "replica", "zone1", bs["zone1-0000000002"].Port, "")))
	must(b.Put("tablets/zone2-0000000003", tabletJSON("ks", "-80", "replica", "zone2", bs["zone2-0000000003"].Port, "")))
	must(b.Put("tablets/zone1-0000000011", tabletJSON("ks", "80-", "primary", "zone1", bs["zone1-0000000011"].Port, "")))
	must(b.Put("tablets/zone1-0000000012", tabletJSON("ks", "80-", "replica", "zone1", bs["zone1-0000000012"].Port, "")))

	c := xdscache.NewCache(xdscache.CacheOptions{})
	c.OnTopology(b.Build(1))
	srv := New(c, nil)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	cl := xdstest.Dial(t, lis.Addr().String(), xdstest.Node{ID: "app-1", Region: "r1", Zone: "z2"}, "ks", bs)
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := cl.Count(1, "x-shard", "-80")
		return got.Only("zone1-0000000001"), "primary of -80: " + got.String()
	})
	cases := map[string]struct {
		headers []string
		want    string
	}{
		"default type is primary":         {[]string{"x-shard", "80-"}, "zone1-0000000011"},
		"keyspace id below 80":            {[]string{"x-keyspace-id", "7fffffffffffffff"}, "zone1-0000000001"},
		"keyspace id at 80":               {[]string{"x-keyspace-id", "8000000000000000"}, "zone1-0000000011"},
		"replica in the client's zone":    {[]string{"x-tablet-type", "replica", "x-shard", "-80"}, "zone2-0000000003"},
		"replica in the region otherwise": {[]string{"x-tablet-type", "replica", "x-keyspace-id", "9000000000000000"}, "zone1-0000000012"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := cl.Count(20, tc.headers...); !got.Only(tc.want) {
				t.Errorf("calls went to %v, want all to %s", got, tc.want)
			}
		})
	}
	for _, st := range srv.Nodes() {
		if st.LastNack != nil {
			t.Errorf("node %s NACKed: %+v", st.NodeID, st.LastNack)
		}
	}
}
