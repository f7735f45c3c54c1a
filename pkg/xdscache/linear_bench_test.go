package xdscache

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
)

// This file measures go-control-plane's LinearCache, one per node group
// and type behind a MuxCache, against watches (sotw.go, delta.go) on the
// same changes; the figures and the decision are in docs/performance.md,
// "Our watches against go-control-plane's LinearCache".

// benchStream plays one xDS stream's part for one type: it opens a
// watch, and on each response records what the client holds, builds the
// wire response, ACKs and opens the next watch, as go-control-plane's
// server does.
type benchStream struct {
	node    *corev3.Node
	names   []string
	delta   bool
	sub     stream.Subscription
	sotw    chan cache.Response
	deltas  chan cache.DeltaResponse
	version string
	nonce   int
}

func (s *benchStream) watch(c cache.Cache) error {
	var err error
	if s.delta {
		req := &cache.DeltaRequest{Node: s.node, TypeUrl: resourcev3.EndpointType}
		if s.nonce == 0 {
			req.ResourceNamesSubscribe = s.names
		} else {
			req.ResponseNonce = strconv.Itoa(s.nonce)
		}
		_, err = c.CreateDeltaWatch(req, s.sub, s.deltas)
	} else {
		req := &cache.Request{Node: s.node, TypeUrl: resourcev3.EndpointType, ResourceNames: s.names, VersionInfo: s.version}
		if s.nonce > 0 {
			req.ResponseNonce = strconv.Itoa(s.nonce)
		}
		_, err = c.CreateWatch(req, s.sub, s.sotw)
	}
	return err
}

// receive handles a response waiting for the stream, if any, and opens
// the next watch; it returns how many resources the response held and
// whether there was one.
func (s *benchStream) receive(c cache.Cache) (int, bool, error) {
	n := 0
	select {
	case r := <-s.sotw:
		out, err := r.GetDiscoveryResponse()
		if err != nil {
			return 0, false, err
		}
		n = len(out.GetResources())
		s.sub.SetReturnedResources(r.GetReturnedResources())
		s.version = out.GetVersionInfo()
	case r := <-s.deltas:
		out, err := r.GetDeltaDiscoveryResponse()
		if err != nil {
			return 0, false, err
		}
		n = len(out.GetResources()) + len(out.GetRemovedResources())
		s.sub.SetReturnedResources(r.GetNextVersionMap())
	default:
		return 0, false, nil
	}
	s.nonce++
	return n, true, s.watch(c)
}

// answeringFixture is a 19,200-tablet fleet's 9 Envoy groups translated
// three times: the fleet (base), one replica NOT_SERVING (flipped, with
// the names it changed from base) and SERVING again (back, with the names
// changed from flipped); back's content is base's.
type answeringFixture struct {
	groups                 []translate.Group
	base, flipped, back    []*groupSnap
	flipChanges, backChges []changes
}

func newAnsweringFixture(b *testing.B) *answeringFixture {
	tb := topology.NewBuilder()
	for c := range 9 {
		tb.Put(fmt.Sprintf("cells/z%d", c), []byte(fmt.Sprintf(`{"region":"r%d","zone":"z%d"}`, c/3, c)))
	}
	tablet := func(alias, ks, shard, typ, state string) {
		rec, _ := json.Marshal(map[string]any{"keyspace": ks, "shard": shard, "type": typ, "hostname": "h",
			"port_map": map[string]int{"grpc": 1}, "state": state, "primary_term_start": "2026-11-20T10:00:00Z"})
		if err := tb.Put("tablets/"+alias, rec); err != nil {
			b.Fatal(err)
		}
	}
	for k := range 40 {
		for s := range 32 {
			for t := range 15 {
				typ := "replica"
				if t == 0 {
					typ = "primary"
				} else if t > 9 {
					typ = "rdonly"
				}
				tablet(fmt.Sprintf("z%d-%010d", t%9, (k*32+s)*15+t), fmt.Sprintf("ks%02d", k), benchShard(s), typ, "SERVING")
			}
		}
	}
	f := &answeringFixture{}
	var tr Translator
	tr.Raw = true
	now := time.Unix(0, 0)
	build := func(topo *topology.Topology) ([]*groupSnap, []changes) {
		var snaps []*groupSnap
		var chs []changes
		for _, g := range f.groups {
			s, ch, err := tr.build(topo, g, now)
			if err != nil {
				b.Fatal(err)
			}
			snaps, chs = append(snaps, s), append(chs, ch)
		}
		return snaps, chs
	}
	for z := range 9 {
		f.groups = append(f.groups, translate.GroupOf(benchNode(z)))
	}
	f.base, _ = build(tb.Build(1))
	tablet("z1-0000000001", "ks00", "-08", "replica", "NOT_SERVING")
	f.flipped, f.flipChanges = build(tb.Build(2))
	tablet("z1-0000000001", "ks00", "-08", "replica", "SERVING")
	f.back, f.backChges = build(tb.Build(3))
	return f
}

func benchShard(s int) string {
	lo, hi := fmt.Sprintf("%02x", s*8), fmt.Sprintf("%02x", (s+1)*8)
	if s == 0 {
		lo = ""
	}
	if s == 31 {
		hi = ""
	}
	return lo + "-" + hi
}

func benchNode(zone int) *corev3.Node {
	return &corev3.Node{Id: strconv.Itoa(zone), UserAgentName: "envoy",
		Locality: &corev3.Locality{Region: fmt.Sprintf("r%d", zone/3), Zone: fmt.Sprintf("z%d", zone)}}
}

// BenchmarkWatchAnswering: 1,000 open EDS watches over the 9 Envoy groups
// of a 19,200-tablet fleet, each subscribing to the replica assignments of
// the 32 shards of 2 keyspaces (cmd/xds-bench's streams); one replica
// flips per iteration, its change is published to the 9 groups, and every
// answered stream builds its wire response, ACKs and watches again.
// impl=ours is watches (sotw.go, delta.go); impl=linear is go-control-plane's
// LinearCache per group and type behind a MuxCache, fed the changed names
// through UpdateResources. Translation is done before timing. held-MiB is
// the heap the cache keeps after the first publish of the 9 groups.
func BenchmarkWatchAnswering(b *testing.B) {
	f := newAnsweringFixture(b)
	for _, kind := range []string{"sotw", "delta"} {
		b.Run("impl=ours/proto="+kind, func(b *testing.B) {
			c := NewCache(CacheOptions{})
			// Cache.Watcher answers a node from the group it was bound to, as
			// the xDS server does on each stream's first request.
			bind := func(n *corev3.Node) { c.Bind(n, translate.GroupOf(n)) }
			benchAnswering(b, f, kind == "delta", c.Watcher(), bind, func(i int, snap *groupSnap, ch changes) error {
				c.watches.publish(f.groups[i].ID(), snap, ch)
				return nil
			})
		})
		b.Run("impl=linear/proto="+kind, func(b *testing.B) {
			l := newLinearCaches(func(n *corev3.Node) string { return translate.GroupOf(n).ID() })
			benchAnswering(b, f, kind == "delta", l, func(*corev3.Node) {}, func(i int, snap *groupSnap, ch changes) error {
				return l.publish(f.groups[i].ID(), snap, ch)
			})
		})
	}
}

func benchAnswering(b *testing.B, f *answeringFixture, delta bool, c cache.Cache, bind func(*corev3.Node),
	publish func(group int, snap *groupSnap, ch changes) error) {
	before := heapAlloc()
	for i, s := range f.base {
		if err := publish(i, s, nil); err != nil {
			b.Fatal(err)
		}
	}
	held := heapAlloc() - before // what the cache keeps of the 9 groups' snapshots
	streams := make([]*benchStream, 1000)
	for i := range streams {
		s := &benchStream{node: benchNode(i % 9), delta: delta}
		bind(s.node)
		streams[i] = s
		for _, k := range []int{i % 40, (i + 20) % 40} {
			for sh := range 32 {
				s.names = append(s.names, fmt.Sprintf("ks%02d/%s/replica", k, benchShard(sh)))
			}
		}
		if delta {
			s.sub = stream.NewDeltaSubscription(s.names, nil, nil, false)
			s.deltas = make(chan cache.DeltaResponse, 1)
		} else {
			s.sub = stream.NewSotwSubscription(s.names, false)
			s.sotw = make(chan cache.Response, 1)
		}
		if err := s.watch(c); err != nil {
			b.Fatal(err)
		}
		if n, ok, err := s.receive(c); err != nil || !ok || n != len(s.names) {
			b.Fatalf("stream %d's first response: %d resources, sent %t, err %v; want %d", i, n, ok, err, len(s.names))
		}
	}
	responses, resources := 0, 0
	b.ReportAllocs()
	cpu := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		snaps, chs := f.flipped, f.flipChanges
		if i%2 == 1 {
			snaps, chs = f.back, f.backChges
		}
		for g := range f.groups {
			if err := publish(g, snaps[g], chs[g]); err != nil {
				b.Fatal(err)
			}
		}
		for _, s := range streams {
			n, ok, err := s.receive(c)
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				responses++
				resources += n
			}
		}
	}
	b.StopTimer()
	// CPU time is less disturbed than wall time by other processes on a
	// shared machine; the benchmark runs on one goroutine.
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(held)/(1<<20), "held-MiB")
	b.ReportMetric(float64(responses)/float64(b.N), "responses/op")
	b.ReportMetric(float64(resources)/float64(b.N), "resources/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapAlloc is the heap in use after a collection.
func heapAlloc() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
