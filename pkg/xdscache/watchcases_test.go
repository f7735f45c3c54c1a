package xdscache_test

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/protobuf/proto"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

// The tests in watchcases_test.go and watchcases_delta_test.go port the
// cases of go-control-plane v0.14.0's pkg/cache/v3/linear_test.go that
// concern watch answering to the cache's own (Cache.Watcher), which
// replaces go-control-plane's caches (STYLE.md §8). Each is named after
// the case it ports. Where LinearCache takes resources by name, these
// tests change a small topology: a shard's replica going NOT_SERVING
// changes that shard's replica assignment alone, and a keyspace's tablets
// appearing or going add or remove its resources of every type.
//
// Answers are sent before OnTopology or CreateWatch returns, so a response
// not sent is checked with a non-blocking receive; each such test then
// makes a change the watch subscribes to and checks that the next
// response is that change alone (had a response been sent earlier, the
// watch would have been closed and the next receive would see it).

const (
	edsType  = resourcev3.EndpointType
	cdsType  = resourcev3.ClusterType
	srdsType = resourcev3.ScopedRouteType
)

// Assignments (and clusters) of keyspace ks's two shards.
const (
	ksLoReplica = "ks/-80/replica"
	ksHiReplica = "ks/80-/replica"
	ksLoPrimary = "ks/-80/primary"
	ksHiPrimary = "ks/80-/primary"
	ks2Replica  = "ks2/0/replica" // exists while keyspace ks2 does (watchFleet.keyspace)
	ks2Primary  = "ks2/0/primary"
	ks3Replica  = "ks3/0/replica"
	ks3Primary  = "ks3/0/primary"
)

// watchFleet is a Cache fed from a topology builder: keyspace ks with
// shards -80 and 80-, each a primary in zone1 and a replica in zone2.
type watchFleet struct {
	t   *testing.T
	b   *topology.Builder
	rev int64
	c   *xdscache.Cache
}

// envoyZ1 is the node of every test stream: an Envoy in region r1, zone z1.
var envoyZ1 = &corev3.Node{Id: "envoy-1", UserAgentName: "envoy", Locality: &corev3.Locality{Region: "r1", Zone: "z1"}}

// newWatchFleet returns the fleet with envoyZ1's group registered; with
// apply, its first topology is applied.
func newWatchFleet(t *testing.T, apply bool) *watchFleet {
	return newWatchFleetWith(t, xdscache.CacheOptions{}, apply)
}

// newWatchFleetWith is newWatchFleet with a cache made with opts.
func newWatchFleetWith(t *testing.T, opts xdscache.CacheOptions, apply bool) *watchFleet {
	f := &watchFleet{t: t, b: topology.NewBuilder(), c: xdscache.NewCache(opts)}
	f.put("cells/zone1", `{"region":"r1","zone":"z1"}`)
	f.put("cells/zone2", `{"region":"r1","zone":"z2"}`)
	for i, shard := range []string{"-80", "80-"} {
		f.tablet(100+2*i, "ks", shard, "primary", "zone1", "SERVING")
		f.tablet(101+2*i, "ks", shard, "replica", "zone2", "SERVING")
	}
	f.c.Register(envoyZ1)
	if apply {
		f.apply()
	}
	return f
}

func (f *watchFleet) put(key, value string) {
	f.t.Helper()
	if err := f.b.Put(key, []byte(value)); err != nil {
		f.t.Fatal(err)
	}
}

func (f *watchFleet) tablet(uid int, ks, shard, typ, cell, state string) {
	f.t.Helper()
	f.put(fmt.Sprintf("tablets/%s-%010d", cell, uid), fmt.Sprintf(`{"keyspace":%q,"shard":%q,"type":%q,"cell":%q,
		"hostname":"127.0.0.1","port_map":{"grpc":%d},"state":%q,"primary_term_start":"2026-11-20T10:00:00Z"}`,
		ks, shard, typ, cell, 15000+uid, state))
}

// replica sets the state of the replica of ks's shard -80 ("lo") or 80-.
func (f *watchFleet) replica(shard, state string) {
	f.t.Helper()
	uid := 101
	if shard == "80-" {
		uid = 103
	}
	f.tablet(uid, "ks", shard, "replica", "zone2", state)
}

// keyspace adds keyspace ksN (N from 2 to 9: shard 0, a primary in zone1
// and a replica in zone2) or removes it. Each of its types then has the
// names of keyspaceNames.
func (f *watchFleet) keyspace(n int, present bool) {
	f.t.Helper()
	ks := fmt.Sprintf("ks%d", n)
	if present {
		f.tablet(100*n, ks, "0", "primary", "zone1", "SERVING")
		f.tablet(100*n+1, ks, "0", "replica", "zone2", "SERVING")
		return
	}
	f.b.Delete(fmt.Sprintf("tablets/zone1-%010d", 100*n))
	f.b.Delete(fmt.Sprintf("tablets/zone2-%010d", 100*n+1))
}

// keyspaceNames are the clusters, and the assignments, of a keyspace
// added by watchFleet.keyspace.
func keyspaceNames(n int) []string {
	var out []string
	for _, class := range []string{"primary", "rdonly", "read-after-write", "replica"} {
		out = append(out, fmt.Sprintf("ks%d/0/%s", n, class))
	}
	return out
}

func (f *watchFleet) apply() {
	f.rev++
	f.c.OnTopology(f.b.Build(f.rev))
}

// version is the version of a type in the group's current xdscache.
func (f *watchFleet) version(typeURL string) string {
	f.t.Helper()
	snap, ok := f.c.Snapshot(translate.GroupOf(envoyZ1).ID())
	if !ok {
		f.t.Fatal("no snapshot")
	}
	return snap.GetVersion(typeURL)
}

// sotwStream plays a SotW stream's part for one type, as
// go-control-plane's server does: it records what each response returned
// in its subscription and ACKs it with the next watch.
type sotwStream struct {
	t      *testing.T
	w      cache.Cache
	req    *cache.Request
	sub    stream.Subscription
	out    chan cache.Response
	cancel func()
	nonce  int
}

// sotw opens a SotW stream on the cache: named, or wildcard without names.
func (f *watchFleet) sotw(typeURL string, names ...string) *sotwStream {
	return f.sotwAt("", nil, typeURL, names...)
}

// sotwAt opens a SotW stream whose first request names a version, and
// whose client holds the returned resources (name -> version).
func (f *watchFleet) sotwAt(version string, returned map[string]string, typeURL string, names ...string) *sotwStream {
	s := &sotwStream{t: f.t, w: f.c.Watcher(), out: make(chan cache.Response, 1),
		req: &cache.Request{Node: envoyZ1, TypeUrl: typeURL, ResourceNames: names, VersionInfo: version},
		sub: stream.NewSotwSubscription(names, true)}
	if returned != nil {
		s.sub.SetReturnedResources(maps.Clone(returned))
	}
	s.watch()
	return s
}

// watch opens the stream's next watch, with the version and nonce of the
// last response.
func (s *sotwStream) watch() {
	s.t.Helper()
	cancel, err := s.w.CreateWatch(s.req, s.sub, s.out)
	if err != nil {
		s.t.Fatal(err)
	}
	s.cancel = cancel
}

// subscribe replaces the names the stream subscribes to, as a request
// with new resource names does: the open watch is closed, and one opened
// for the new names.
func (s *sotwStream) subscribe(names ...string) {
	s.cancel()
	s.req.ResourceNames = names
	s.sub.SetResourceSubscription(names)
	s.watch()
}

// recv returns the names of the resources in the stream's next response
// (sorted) and its version, and records them as returned to the client.
func (s *sotwStream) recv() ([]string, string) {
	s.t.Helper()
	var r cache.Response
	select {
	case r = <-s.out:
	case <-time.After(5 * time.Second):
		s.t.Fatal("no SotW response within 5s")
	}
	out, err := r.GetDiscoveryResponse()
	if err != nil {
		s.t.Fatal(err)
	}
	var names []string
	for _, a := range out.GetResources() {
		names = append(names, resourceName(s.t, out.GetTypeUrl(), a.GetValue()))
	}
	slices.Sort(names)
	s.sub.SetReturnedResources(r.GetReturnedResources())
	s.nonce++
	s.req.VersionInfo, s.req.ResponseNonce = out.GetVersionInfo(), strconv.Itoa(s.nonce)
	return names, out.GetVersionInfo()
}

// expect checks that the next response holds exactly want, and opens the
// next watch.
func (s *sotwStream) expect(want ...string) string {
	s.t.Helper()
	got, version := s.recv()
	if slices.Sort(want); !slices.Equal(got, want) {
		s.t.Fatalf("SotW %s response holds %v, want %v", s.req.GetTypeUrl(), got, want)
	}
	s.watch()
	return version
}

// none checks that no response is waiting.
func (s *sotwStream) none(why string) {
	s.t.Helper()
	select {
	case r := <-s.out:
		out, _ := r.GetDiscoveryResponse()
		s.t.Fatalf("%s: got a SotW response with %d resources, want none", why, len(out.GetResources()))
	default:
	}
}

func resourceName(t *testing.T, typeURL string, b []byte) string {
	t.Helper()
	switch typeURL {
	case edsType:
		var m endpointv3.ClusterLoadAssignment
		if err := proto.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m.GetClusterName()
	case cdsType:
		var m clusterv3.Cluster
		if err := proto.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m.GetName()
	case srdsType:
		var m routev3.ScopedRouteConfiguration
		if err := proto.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m.GetName()
	}
	t.Fatalf("no decoder for %s", typeURL)
	return ""
}

// every returns all names of a type in the group's current xdscache.
func (f *watchFleet) every(typeURL string) []string {
	f.t.Helper()
	snap, ok := f.c.Snapshot(translate.GroupOf(envoyZ1).ID())
	if !ok {
		f.t.Fatal("no snapshot")
	}
	return slices.Sorted(maps.Keys(snap.GetResources(typeURL)))
}
