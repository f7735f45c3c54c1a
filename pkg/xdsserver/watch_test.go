package xdsserver

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sort"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

// fleet is a cache fed straight from a topology builder, served over xDS.
type fleet struct {
	t     *testing.T
	b     *topology.Builder
	rev   int64
	cache *xdscache.Cache
	srv   *Server
	conn  *grpc.ClientConn
}

func newFleet(t *testing.T) *fleet {
	f := &fleet{t: t, b: topology.NewBuilder(), cache: xdscache.NewCache(xdscache.CacheOptions{})}
	f.put("cells/zone1", `{"region":"r1","zone":"z1"}`)
	f.put("cells/zone2", `{"region":"r1","zone":"z2"}`)
	for i, shard := range []string{"-40", "40-80", "80-c0", "c0-"} {
		f.tablet(uint32(100+2*i), shard, "primary", "zone1", "SERVING")
		f.tablet(uint32(101+2*i), shard, "replica", "zone2", "SERVING")
	}
	f.apply()
	f.srv = New(f.cache, nil)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = f.srv.Serve(lis) }()
	t.Cleanup(f.srv.Stop)
	f.conn, err = grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.conn.Close() })
	return f
}

func (f *fleet) put(key, value string) {
	f.t.Helper()
	if err := f.b.Put(key, []byte(value)); err != nil {
		f.t.Fatal(err)
	}
}

// tablet writes tablet zoneN-0000000<id> of keyspace ks.
func (f *fleet) tablet(id uint32, shard, typ, cell, state string) {
	alias := fmt.Sprintf("%s-%010d", cell, id)
	f.put("tablets/"+alias, string(tabletJSON("ks", shard, typ, cell, 15000+id, `,"state":"`+state+`"`)))
}

func (f *fleet) apply() {
	f.rev++
	f.cache.OnTopology(f.b.Build(f.rev))
}

// adsStream is a raw ADS client stream, state of the world or delta.
type adsStream struct {
	t     *testing.T
	sotw  discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	delta discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
}

func envoyNode(id, zone string) *corev3.Node {
	return &corev3.Node{Id: id, UserAgentName: "envoy", Locality: &corev3.Locality{Region: "r1", Zone: zone}}
}

func (f *fleet) sotw() *adsStream {
	ctx, cancel := context.WithCancel(context.Background())
	f.t.Cleanup(cancel)
	s, err := discoveryv3.NewAggregatedDiscoveryServiceClient(f.conn).StreamAggregatedResources(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return &adsStream{t: f.t, sotw: s}
}

func (f *fleet) deltaStream() *adsStream {
	ctx, cancel := context.WithCancel(context.Background())
	f.t.Cleanup(cancel)
	s, err := discoveryv3.NewAggregatedDiscoveryServiceClient(f.conn).DeltaAggregatedResources(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return &adsStream{t: f.t, delta: s}
}

func (a *adsStream) send(req *discoveryv3.DiscoveryRequest) {
	a.t.Helper()
	if err := a.sotw.Send(req); err != nil {
		a.t.Fatal(err)
	}
}

// recv returns the next SotW response, failing after 5 s.
func (a *adsStream) recv() *discoveryv3.DiscoveryResponse {
	a.t.Helper()
	return within(a.t, a.sotw.Recv)
}

// recvDelta returns the next delta response, failing after 5 s.
func (a *adsStream) recvDelta() *discoveryv3.DeltaDiscoveryResponse {
	a.t.Helper()
	return within(a.t, a.delta.Recv)
}

// within returns what recv returns, failing the test on an error or after
// 5 s.
func within[R any](t *testing.T, recv func() (R, error)) R {
	t.Helper()
	type result struct {
		r   R
		err error
	}
	ch := make(chan result, 1)
	go func() {
		r, err := recv()
		ch <- result{r, err}
	}()
	select {
	case got := <-ch:
		if got.err != nil {
			t.Fatal(got.err)
		}
		return got.r
	case <-time.After(5 * time.Second):
		t.Fatal("no response within 5s")
	}
	var zero R
	return zero
}

// names returns the names of a response's assignments or clusters, sorted.
func names(t *testing.T, r *discoveryv3.DiscoveryResponse) []string {
	t.Helper()
	var out []string
	for _, a := range r.GetResources() {
		switch r.GetTypeUrl() {
		case resourcev3.EndpointType:
			var cla endpointv3.ClusterLoadAssignment
			if err := proto.Unmarshal(a.GetValue(), &cla); err != nil {
				t.Fatal(err)
			}
			out = append(out, cla.GetClusterName())
		case resourcev3.ClusterType:
			var c clusterv3.Cluster
			if err := proto.Unmarshal(a.GetValue(), &c); err != nil {
				t.Fatal(err)
			}
			out = append(out, c.GetName())
		}
	}
	sort.Strings(out)
	return out
}

func ack(typeURL string, names []string, r *discoveryv3.DiscoveryResponse) *discoveryv3.DiscoveryRequest {
	return &discoveryv3.DiscoveryRequest{TypeUrl: typeURL, ResourceNames: names, VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce()}
}

// TestSotWSendsOnlyWhatChanged: a state-of-the-world stream hears nothing
// when a shard it does not watch changes, and gets only the assignment
// that changed when one it watches does; clusters, which SotW clients take
// as a full set, come whole.
func TestSotWSendsOnlyWhatChanged(t *testing.T) {
	f := newFleet(t)
	eds := f.sotw()
	watched := []string{"ks/-40/replica", "ks/40-80/replica", "ks/80-c0/replica"}
	eds.send(&discoveryv3.DiscoveryRequest{Node: envoyNode("a", "z1"), TypeUrl: resourcev3.EndpointType, ResourceNames: watched})
	first := eds.recv()
	if got := names(t, first); !slices.Equal(got, watched) {
		t.Fatalf("first response holds %v, want every watched assignment %v", got, watched)
	}
	eds.send(ack(resourcev3.EndpointType, watched, first))

	cds := f.sotw()
	cds.send(&discoveryv3.DiscoveryRequest{Node: envoyNode("b", "z1"), TypeUrl: resourcev3.ClusterType})
	clusters := cds.recv()
	if n := len(clusters.GetResources()); n != 4*4 {
		t.Fatalf("wildcard CDS got %d clusters, want 16", n)
	}
	cds.send(ack(resourcev3.ClusterType, nil, clusters))

	// A shard nobody watches changes, then a watched one: the stream's next
	// response is the second change alone. Had the first produced a
	// response, it would come first.
	f.tablet(107, "c0-", "replica", "zone2", "NOT_SERVING")
	f.apply()
	f.tablet(103, "40-80", "replica", "zone2", "NOT_SERVING")
	f.apply()
	next := eds.recv()
	if got := names(t, next); !slices.Equal(got, []string{"ks/40-80/replica"}) {
		t.Fatalf("after one watched shard changed, got %v, want only ks/40-80/replica", got)
	}
	if next.GetVersionInfo() == first.GetVersionInfo() {
		t.Error("the response kept the old version")
	}
	eds.send(ack(resourcev3.EndpointType, watched, next))

	// Subscribing to one more name sends that name alone.
	more := append(slices.Clone(watched), "ks/c0-/replica")
	eds.send(&discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResourceNames: more,
		VersionInfo: next.GetVersionInfo(), ResponseNonce: next.GetNonce()})
	if got := names(t, eds.recv()); !slices.Equal(got, []string{"ks/c0-/replica"}) {
		t.Fatalf("after subscribing to ks/c0-/replica, got %v, want it alone", got)
	}

	// Clusters did not change with tablet health. A new shard changes them,
	// and the CDS stream gets the whole set, the new shard's included.
	f.put("tablets/zone1-0000000120", string(tabletJSON("other", "0", "primary", "zone1", 15120, "")))
	f.apply()
	full := cds.recv()
	if n := len(full.GetResources()); n != 5*4 {
		t.Fatalf("after a keyspace was added, CDS got %d clusters, want all 20", n)
	}
	if !slices.Contains(names(t, full), "other/0/primary") {
		t.Errorf("CDS lacks the new keyspace's clusters: %v", names(t, full))
	}
}

// TestSotWNackWaitsForTheNextChange: a rejected version is not sent again;
// the next change is.
func TestSotWNackWaitsForTheNextChange(t *testing.T) {
	f := newFleet(t)
	s := f.sotw()
	watched := []string{"ks/-40/replica", "ks/40-80/replica"}
	s.send(&discoveryv3.DiscoveryRequest{Node: envoyNode("a", "z1"), TypeUrl: resourcev3.EndpointType, ResourceNames: watched})
	first := s.recv()
	nack := ack(resourcev3.EndpointType, watched, first)
	nack.VersionInfo = ""
	nack.ErrorDetail = &status.Status{Code: 3, Message: "rejected for the test"}
	s.send(nack)

	f.tablet(101, "-40", "replica", "zone2", "NOT_SERVING")
	f.apply()
	next := s.recv()
	if got := names(t, next); !slices.Equal(got, []string{"ks/-40/replica"}) {
		t.Fatalf("after a NACK and a change, got %v, want the changed assignment alone (the rejected version re-sent would hold both)", got)
	}
	if st := f.srv.Nodes(); len(st) != 1 || st[0].LastNack == nil {
		t.Errorf("the NACK was not recorded: %+v", st)
	}
}

// TestSotWAndDeltaStreamsWithTheSameNumber: go-control-plane numbers SotW
// and delta streams separately. A delta stream opened first, then a SotW
// stream with the same number, each from its own zone, both get their
// configuration.
func TestSotWAndDeltaStreamsWithTheSameNumber(t *testing.T) {
	f := newFleet(t)
	d := f.deltaStream()
	waitStreams(t, f.srv, 1) // the delta stream is open on the server
	s := f.sotw()
	s.send(&discoveryv3.DiscoveryRequest{Node: envoyNode("s", "z1"), TypeUrl: resourcev3.EndpointType, ResourceNames: []string{"ks/-40/replica"}})
	if got := names(t, s.recv()); len(got) != 1 {
		t.Fatalf("SotW stream got %v", got)
	}
	if err := d.delta.Send(&discoveryv3.DeltaDiscoveryRequest{Node: envoyNode("d", "z2"), TypeUrl: resourcev3.EndpointType,
		ResourceNamesSubscribe: []string{"ks/-40/replica"}}); err != nil {
		t.Fatal(err)
	}
	if r := d.recvDelta(); len(r.GetResources()) != 1 {
		t.Fatalf("the delta stream, numbered like the SotW stream, got %v", deltaNames(r))
	}
	nodes := f.srv.Nodes()
	if len(nodes) != 2 || nodes[0].StreamID != nodes[1].StreamID || nodes[0].Delta == nodes[1].Delta {
		t.Errorf("want a SotW and a delta stream with the same number, got %+v", nodes)
	}
}

func waitStreams(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Nodes()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d streams open, want %d", len(s.Nodes()), n)
		}
		time.Sleep(time.Millisecond) // polling a condition, with a deadline
	}
}

// TestDeltaNackWaitsForTheNextChange: on a delta stream, a NACK is
// recorded and nothing is re-sent; the next change sends only what changed.
func TestDeltaNackWaitsForTheNextChange(t *testing.T) {
	f := newFleet(t)
	d := f.deltaStream()
	watched := []string{"ks/-40/replica", "ks/40-80/replica"}
	if err := d.delta.Send(&discoveryv3.DeltaDiscoveryRequest{Node: envoyNode("d", "z1"), TypeUrl: resourcev3.EndpointType,
		ResourceNamesSubscribe: watched}); err != nil {
		t.Fatal(err)
	}
	first := d.recvDelta()
	if len(first.GetResources()) != 2 {
		t.Fatalf("first delta response holds %d resources, want 2", len(first.GetResources()))
	}
	if err := d.delta.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResponseNonce: first.GetNonce(),
		ErrorDetail: &status.Status{Code: 3, Message: "rejected for the test"}}); err != nil {
		t.Fatal(err)
	}
	f.tablet(103, "40-80", "replica", "zone2", "NOT_SERVING")
	f.apply()
	next := d.recvDelta()
	if len(next.GetResources()) != 1 || next.GetResources()[0].GetName() != "ks/40-80/replica" {
		t.Fatalf("after a NACK and a change, got %v, want ks/40-80/replica alone (a re-send would hold both)", deltaNames(next))
	}
	xdsNodes := f.srv.Nodes()
	if len(xdsNodes) != 1 || xdsNodes[0].LastNack == nil || xdsNodes[0].LastNack.Error != "rejected for the test" {
		t.Errorf("the NACK was not recorded: %+v", xdsNodes)
	}
}

func deltaNames(r *discoveryv3.DeltaDiscoveryResponse) []string {
	var out []string
	for _, res := range r.GetResources() {
		out = append(out, res.GetName())
	}
	return out
}

// TestDeltaSendsOnlyWhatChangedAndRemovals: a delta stream hears nothing
// when a shard it does not watch changes, gets the changed assignment
// alone when a watched one does, and is told of removals; a wildcard
// cluster stream gets the removed clusters' names.
func TestDeltaSendsOnlyWhatChangedAndRemovals(t *testing.T) {
	f := newFleet(t)
	f.put("tablets/zone1-0000000120", string(tabletJSON("other", "0", "primary", "zone1", 15120, "")))
	f.apply()
	eds := f.deltaStream()
	watched := []string{"ks/-40/replica", "ks/40-80/replica", "other/0/primary"}
	if err := eds.delta.Send(&discoveryv3.DeltaDiscoveryRequest{Node: envoyNode("a", "z1"), TypeUrl: resourcev3.EndpointType,
		ResourceNamesSubscribe: watched}); err != nil {
		t.Fatal(err)
	}
	first := eds.recvDelta()
	if got := deltaNames(first); len(got) != 3 {
		t.Fatalf("first delta response holds %v, want the 3 watched assignments", got)
	}
	ackDelta(t, eds, resourcev3.EndpointType, first)

	cds := f.deltaStream()
	if err := cds.delta.Send(&discoveryv3.DeltaDiscoveryRequest{Node: envoyNode("b", "z1"), TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	clusters := cds.recvDelta()
	if n := len(clusters.GetResources()); n != 5*4 {
		t.Fatalf("wildcard delta CDS got %d clusters, want 20", n)
	}
	ackDelta(t, cds, resourcev3.ClusterType, clusters)

	f.tablet(107, "c0-", "replica", "zone2", "NOT_SERVING") // not watched
	f.apply()
	f.tablet(103, "40-80", "replica", "zone2", "NOT_SERVING")
	f.apply()
	next := eds.recvDelta()
	if got := deltaNames(next); len(got) != 1 || got[0] != "ks/40-80/replica" || len(next.GetRemovedResources()) != 0 {
		t.Fatalf("after one watched shard changed, got %v (removed %v), want ks/40-80/replica alone", got, next.GetRemovedResources())
	}
	ackDelta(t, eds, resourcev3.EndpointType, next)

	f.b.Delete("tablets/zone1-0000000120") // keyspace other goes
	f.apply()
	gone := eds.recvDelta()
	if len(gone.GetResources()) != 0 || !slices.Equal(gone.GetRemovedResources(), []string{"other/0/primary"}) {
		t.Fatalf("after keyspace other went, got %v removed %v, want other/0/primary removed", deltaNames(gone), gone.GetRemovedResources())
	}
	removed := cds.recvDelta().GetRemovedResources()
	sort.Strings(removed)
	if want := []string{"other/0/primary", "other/0/rdonly", "other/0/read-after-write", "other/0/replica"}; !slices.Equal(removed, want) {
		t.Errorf("wildcard CDS removals %v, want %v", removed, want)
	}
}

func ackDelta(t *testing.T, a *adsStream, typeURL string, r *discoveryv3.DeltaDiscoveryResponse) {
	t.Helper()
	if err := a.delta.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: r.GetNonce()}); err != nil {
		t.Fatal(err)
	}
}
