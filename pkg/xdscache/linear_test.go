package xdscache_test

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"

	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

// TestServeLinear: with CacheOptions.Serve = ServeLinear (cmd/xds-bench
// -serve linear), the streams are answered by go-control-plane's
// LinearCaches, kept up to date by the cache's publishes: a SotW and a
// delta stream get their assignments, then the one assignment a replica
// flip changes. Versions are LinearCache's counters, not the snapshot's
// content hashes, which is how the test knows who answered. Three groups
// publish in parallel (run with -race), and a node no stream registered
// is refused.
func TestServeLinear(t *testing.T) {
	f := newWatchFleetWith(t, xdscache.CacheOptions{Serve: xdscache.ServeLinear}, false)
	for _, n := range []*corev3.Node{
		{Id: "envoy-z2", UserAgentName: "envoy", Locality: &corev3.Locality{Region: "r1", Zone: "z2"}},
		{Id: "grpc-z1", UserAgentName: "grpc-go", Locality: &corev3.Locality{Region: "r1", Zone: "z1"}},
	} {
		f.c.Register(n)
	}
	f.apply()

	sotw := f.sotw(edsType, ksLoReplica, ksHiReplica)
	if v := sotw.expect(ksLoReplica, ksHiReplica); v == f.version(edsType) {
		t.Fatalf("SotW response version %q is the snapshot's: answered by the cache's own watches, not LinearCache", v)
	}
	delta := f.delta(edsType, nil, ksLoReplica, ksHiReplica)
	delta.expect([]string{ksLoReplica, ksHiReplica})

	f.replica("-80", "NOT_SERVING")
	f.apply()
	if v := sotw.expect(ksLoReplica); v == f.version(edsType) {
		t.Fatalf("SotW response version %q after the flip is the snapshot's, want LinearCache's", v)
	}
	delta.expect([]string{ksLoReplica})
	sotw.none("nothing changed since the flip")
	delta.none("nothing changed since the flip")

	stranger := &corev3.Node{Id: "unregistered", UserAgentName: "envoy"}
	_, err := f.c.Watcher().CreateWatch(&cache.Request{Node: stranger, TypeUrl: edsType, ResourceNames: []string{ksLoReplica}},
		stream.NewSotwSubscription([]string{ksLoReplica}, true), make(chan cache.Response, 1))
	if err == nil {
		t.Fatal("a watch for a node no stream registered was accepted")
	}
}
