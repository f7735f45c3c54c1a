package xdsserver

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

var (
	diffSeeds = flag.Int("diff.seeds", 4, "TestServedEqualsFreshTranslation runs seeds 1..diff.seeds (or only diff.seed)")
	diffSeed  = flag.Uint64("diff.seed", 0, "the one seed TestServedEqualsFreshTranslation runs, when not 0")
	diffSteps = flag.Int("diff.steps", 600, "steps of TestServedEqualsFreshTranslation per seed")
)

// TestServedEqualsFreshTranslation is the differential test of the whole
// memo: random sequences of every kind of etcd record change (tablets,
// keyspace policies, cells, shifts of cells and of keyspaces, drains,
// preferred cells, routing rules) and clock advances across ramp, drain
// and shift boundaries. After each step, what every node group's delta and
// state-of-the-world streams hold, as received over a real ADS stream,
// equals a fresh translation of the same topology at the same time,
// resource by resource.
//
// make test runs 4 seeds of 600 steps; more, or one seed again:
//
//	go test ./pkg/xdsserver -run TestServedEqualsFreshTranslation -diff.seeds=50 -diff.steps=5000
//	go test ./pkg/xdsserver -run TestServedEqualsFreshTranslation -diff.seed=7
func TestServedEqualsFreshTranslation(t *testing.T) {
	seeds := []uint64{*diffSeed}
	if *diffSeed == 0 {
		seeds = nil
		for s := range *diffSeeds {
			seeds = append(seeds, uint64(s+1))
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			d := newDiffFleet(t, seed)
			for step := range *diffSteps {
				what := d.mutate()
				topo := d.b.Build(int64(step + 2))
				d.cache.OnTopology(topo)
				for _, c := range d.clients {
					if err := c.converge(d.fresh(topo, c.node)); err != nil {
						t.Fatalf("step %d (%s), node %s: %v", step, what, c.node.GetId(), err)
					}
				}
			}
		})
	}
}

// diffFleet is a cache served over xDS, fed from a builder the test
// mutates, with a clock the test advances.
type diffFleet struct {
	t       *testing.T
	rng     *rand.Rand
	b       *topology.Builder
	mu      sync.Mutex // guards now
	now     time.Time
	cache   *xdscache.Cache
	clients []*diffClient
	shifts  map[string]*diffShift // the shift records in etcd, by name
}

// diffShift is a shift record, edited one field at a time.
type diffShift struct {
	Keyspace   string `json:"keyspace"`
	TabletType string `json:"tablet_type"`
	FromCell   string `json:"from_cell,omitempty"`
	ToCell     string `json:"to_cell,omitempty"`
	ToKeyspace string `json:"to_keyspace,omitempty"`
	Steps      []int  `json:"steps"`
	Hold       string `json:"hold"`
	StartedAt  string `json:"started_at"`
	PausedAt   string `json:"paused_at,omitempty"`
	Aborted    bool   `json:"aborted,omitempty"`
	Rollback   int    `json:"rollback_below_percent"`
}

var (
	diffCells     = []string{"zone1", "zone2", "zone3"}
	diffKeyspaces = []string{"ks0", "ks1", "ks2"}
	diffShards    = []string{"-80", "80-"}
	diffTypes     = []string{"primary", "replica", "replica", "rdonly"}
	diffEpoch     = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
)

func newDiffFleet(t *testing.T, seed uint64) *diffFleet {
	d := &diffFleet{t: t, rng: rand.New(rand.NewPCG(seed, seed)), b: topology.NewBuilder(), now: diffEpoch, shifts: map[string]*diffShift{}}
	d.cache = xdscache.NewCache(xdscache.CacheOptions{Now: d.clock})
	for _, c := range diffCells {
		d.put("cells/"+c, d.cellRecord())
	}
	d.put("keyspaces/ks0", `{"mysql_port_base":16000,"ramp":{"window":"40s"}}`)
	d.put("keyspaces/ks2", `{"tenant":"acme"}`)
	for id := range 36 {
		d.put(d.tabletKey(id), d.tabletRecord(id))
	}
	d.cache.OnTopology(d.b.Build(1))

	srv := New(d.cache, nil)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	acme, _ := structpb.NewStruct(map[string]any{"tenant": "acme"})
	nodes := []*corev3.Node{
		{Id: "grpc-z1", UserAgentName: "grpc-go", Locality: &corev3.Locality{Region: "r1", Zone: "z1"}},
		{Id: "grpc-acme-z3", UserAgentName: "grpc-go", Locality: &corev3.Locality{Region: "r2", Zone: "z3"}, Metadata: acme},
		{Id: "envoy-z2", UserAgentName: "envoy", Locality: &corev3.Locality{Region: "r1", Zone: "z2"}},
		{Id: "envoy-nowhere", UserAgentName: "envoy"},
	}
	for _, n := range nodes {
		for _, delta := range []bool{true, false} {
			d.clients = append(d.clients, newDiffClient(t, conn, n, delta))
		}
	}
	return d
}

func (d *diffFleet) clock() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.now
}

func (d *diffFleet) advance(by time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.now = d.now.Add(by)
}

func (d *diffFleet) put(key, value string) {
	d.t.Helper()
	// Invalid records are part of the test: they must change nothing.
	_ = d.b.Put(key, []byte(value))
}

func (d *diffFleet) pick(from []string) string { return from[d.rng.IntN(len(from))] }

// at is a timestamp around the test's clock, so ramps, drains and shift
// steps start, run and end while the clock advances.
func (d *diffFleet) at() string {
	return d.clock().Add(time.Duration(d.rng.IntN(240)-180) * time.Second).Format(time.RFC3339)
}

func (d *diffFleet) cellRecord() string {
	return fmt.Sprintf(`{"region":"r%d","zone":"z%d"}`, 1+d.rng.IntN(2), 1+d.rng.IntN(3))
}

func (d *diffFleet) tabletKey(id int) string {
	return fmt.Sprintf("tablets/%s-%010d", diffCells[id%len(diffCells)], id)
}

func (d *diffFleet) tabletRecord(id int) string {
	opt := func(p int, s string) string {
		if d.rng.IntN(100) < p {
			return s
		}
		return ""
	}
	return fmt.Sprintf(`{"keyspace":%q,"shard":%q,"type":%q,"hostname":"10.0.0.%d","port_map":{"grpc":15000,"mysql":3306},"state":%q,"replication":%q,"replication_lag_seconds":%d,"schema_version":%q,"primary_term_start":"2026-11-25T%02d:00:00Z","weight":%d%s}`,
		diffKeyspaces[id/12%len(diffKeyspaces)], diffShards[id/6%2], d.pick(diffTypes), id,
		d.pick([]string{"SERVING", "SERVING", "SERVING", "SERVING", "NOT_SERVING", "DRAINING"}), d.pick([]string{"semi-sync", "async"}),
		d.pick2([]int{0, 0, 0, 5, 20, 60}), d.pick([]string{"v1", "v2"}), 8+d.rng.IntN(4), 50+50*d.rng.IntN(3),
		opt(30, `,"serving_since":"`+d.at()+`"`))
}

func (d *diffFleet) pick2(from []int) int { return from[d.rng.IntN(len(from))] }

// mutate makes one random change and describes it.
func (d *diffFleet) mutate() string {
	switch r := d.rng.IntN(100); {
	case r < 30:
		id := d.rng.IntN(38) // 36 and 37 are new tablets that come and go
		if d.rng.IntN(5) == 0 {
			d.b.Delete(d.tabletKey(id))
			return "delete " + d.tabletKey(id)
		}
		d.put(d.tabletKey(id), d.tabletRecord(id))
		return "put " + d.tabletKey(id)
	case r < 40:
		by := time.Duration(1+d.rng.IntN(30)) * time.Second
		d.advance(by)
		return "clock +" + by.String()
	case r < 48:
		ks := d.pick(diffKeyspaces)
		if d.rng.IntN(4) == 0 {
			d.b.Delete("keyspaces/" + ks)
			return "delete keyspace " + ks
		}
		v := fmt.Sprintf(`{"tenant":%q,"schema_versions":%s,"lag":{"degraded":"10s","max":"30s","min_serving":%d},"read_after_write_max_lag":"%ds","failover":{"cross_region":%t},"ramp":{"window":"%ds","min_weight_percent":%d},"mysql_port_base":%s}`,
			d.pick([]string{"", "", "acme"}), d.pick([]string{`[]`, `["v1"]`, `["v2"]`, `["v1","v2"]`}), d.rng.IntN(3),
			d.rng.IntN(30), d.rng.IntN(2) == 0, 20+d.rng.IntN(100), d.rng.IntN(50), d.pick([]string{"null", "16000", "17000"}))
		d.put("keyspaces/"+ks, v)
		return "put keyspace " + ks + " " + v
	case r < 52:
		c := d.pick(diffCells)
		if d.rng.IntN(5) == 0 {
			d.b.Delete("cells/" + c)
			return "delete cell " + c
		}
		v := d.cellRecord()
		d.put("cells/"+c, v)
		return "put cell " + c + " " + v
	case r < 75:
		return d.mutateShift(d.pick([]string{"s1", "s2"}))
	case r < 83:
		c := d.pick(diffCells)
		if d.rng.IntN(4) == 0 {
			d.b.Delete("overrides/drain/" + c)
			return "delete drain " + c
		}
		v := fmt.Sprintf(`{"started_at":%q,"window":"%ds"}`, d.at(), d.rng.IntN(120))
		d.put("overrides/drain/"+c, v)
		return "put drain " + c + " " + v
	case r < 90:
		ks := d.pick(diffKeyspaces)
		if d.rng.IntN(3) == 0 {
			d.b.Delete("overrides/prefer/" + ks)
			return "delete prefer " + ks
		}
		v := fmt.Sprintf(`{"cell":%q}`, d.pick(diffCells))
		d.put("overrides/prefer/"+ks, v)
		return "put prefer " + ks + " " + v
	default:
		if d.rng.IntN(3) == 0 {
			d.b.Delete(topology.RulesKey)
			return "delete rules"
		}
		v := fmt.Sprintf(`{"rules":[{"from_keyspace":"%s%s","to_keyspace":%q}]}`,
			d.pick(append(diffKeyspaces, "gone")), d.pick([]string{"", "@replica", "@primary", "@rdonly"}), d.pick(diffKeyspaces))
		d.put(topology.RulesKey, v)
		return "put rules " + v
	}
}

// mutateShift creates, deletes or edits one field of a shift: between
// cells or between keyspaces, every field, pause, resume and abort.
func (d *diffFleet) mutateShift(name string) string {
	sh := d.shifts[name]
	field := d.rng.IntN(14) // 12 and 13: the target again, the edit of issue #10
	switch {
	case sh == nil || field == 0:
		sh = &diffShift{Keyspace: d.pick(diffKeyspaces), TabletType: d.pick([]string{"replica", "replica", "rdonly", "primary"}),
			Steps: []int{100}, Hold: "30s", StartedAt: d.at(), Rollback: d.rng.IntN(30)}
		if d.rng.IntN(3) > 0 {
			sh.FromCell, sh.ToCell = d.pick(diffCells), d.pick(diffCells)
		} else {
			sh.ToKeyspace = d.pick(diffKeyspaces)
		}
		d.shifts[name] = sh
	case field == 1:
		delete(d.shifts, name)
		d.b.Delete("shifts/" + name)
		return "delete shift " + name
	case field == 2:
		sh.Keyspace = d.pick(diffKeyspaces)
	case field == 3:
		sh.TabletType = d.pick([]string{"replica", "replica", "rdonly", "primary"})
	case field == 4 && sh.ToCell != "":
		sh.FromCell = d.pick(diffCells)
	case (field == 5 || field >= 12) && sh.ToCell != "":
		sh.ToCell = d.pick(diffCells)
	case field == 5 || field >= 12:
		sh.ToKeyspace = d.pick(diffKeyspaces)
	case field == 6:
		sh.Steps = [][]int{{100}, {10, 50, 100}, {25, 75}, {50}}[d.rng.IntN(4)]
	case field == 7:
		sh.Hold = fmt.Sprintf("%ds", 10+d.rng.IntN(60))
	case field == 8:
		sh.StartedAt = d.at()
	case field == 9 && sh.PausedAt == "":
		sh.PausedAt = d.at()
	case field == 9:
		sh.PausedAt = "" // resumed
	case field == 10:
		sh.Aborted = !sh.Aborted
	default:
		sh.Rollback = d.rng.IntN(50)
	}
	v, err := json.Marshal(sh)
	if err != nil {
		d.t.Fatal(err)
	}
	d.put("shifts/"+name, string(v))
	return "put shift " + name + " " + string(v)
}

// fresh returns what a node should hold: a new translator's resources for
// its group, by type and name, deterministically encoded.
func (d *diffFleet) fresh(topo *topology.Topology, node *corev3.Node) map[string]map[string][]byte {
	d.t.Helper()
	snap, err := translate.Translate(topo, translate.GroupOf(node), d.clock())
	if err != nil {
		d.t.Fatal(err)
	}
	out := map[string]map[string][]byte{}
	for _, u := range diffTypeURLs {
		out[u] = map[string][]byte{}
		for name, res := range snap.GetResources(u) {
			b, err := proto.MarshalOptions{Deterministic: true}.Marshal(res)
			if err != nil {
				d.t.Fatal(err)
			}
			out[u][name] = b
		}
	}
	return out
}

// diffClient is one ADS stream subscribed to every type (wildcard) that
// applies every response as a client does and ACKs it.
type diffClient struct {
	t     *testing.T
	node  *corev3.Node
	delta discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	sotw  discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	resp  chan any // responses, read by a goroutine
	held  map[string]map[string][]byte
}

func newDiffClient(t *testing.T, conn *grpc.ClientConn, node *corev3.Node, delta bool) *diffClient {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := &diffClient{t: t, node: node, resp: make(chan any, 64), held: map[string]map[string][]byte{}}
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	var err error
	if delta {
		c.delta, err = ads.DeltaAggregatedResources(ctx)
	} else {
		c.sotw, err = ads.StreamAggregatedResources(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			var r any
			var err error
			if delta {
				r, err = c.delta.Recv()
			} else {
				r, err = c.sotw.Recv()
			}
			if err != nil {
				close(c.resp)
				return
			}
			c.resp <- r
		}
	}()
	for _, u := range diffTypeURLs {
		c.held[u] = map[string][]byte{}
		if delta {
			err = c.delta.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: u})
		} else {
			err = c.sotw.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: u})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// converge applies responses until the client holds want, failing after
// 5 s with what differs.
func (c *diffClient) converge(want map[string]map[string][]byte) error {
	deadline := time.After(5 * time.Second)
	for {
		diff := c.diff(want)
		if diff == "" {
			return nil
		}
		select {
		case r, ok := <-c.resp:
			if !ok {
				return fmt.Errorf("stream closed; it differs from a fresh translation: %s", diff)
			}
			if err := c.apply(r); err != nil {
				return err
			}
		case <-deadline:
			return fmt.Errorf("after 5s, what the stream holds differs from a fresh translation: %s", diff)
		}
	}
}

// apply updates what the client holds from a response, and ACKs it.
func (c *diffClient) apply(r any) error {
	switch r := r.(type) {
	case *discoveryv3.DeltaDiscoveryResponse:
		held := c.held[r.GetTypeUrl()]
		for _, res := range r.GetResources() {
			held[res.GetName()] = res.GetResource().GetValue()
		}
		for _, n := range r.GetRemovedResources() {
			delete(held, n)
		}
		return c.delta.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()})
	case *discoveryv3.DiscoveryResponse:
		u := r.GetTypeUrl()
		if fullState(u) {
			c.held[u] = map[string][]byte{} // the response is the whole set
		}
		for _, a := range r.GetResources() {
			name, err := resourceName(u, a.GetValue())
			if err != nil {
				return err
			}
			c.held[u][name] = a.GetValue()
		}
		return c.sotw.Send(&discoveryv3.DiscoveryRequest{TypeUrl: u, VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce()})
	}
	return fmt.Errorf("unexpected response %T", r)
}

// diff describes how what the client holds differs from want, "" when it
// does not. A SotW client is not told of removed assignments and route
// configurations (their clusters and listeners go instead), so for those
// only the names in want are compared.
func (c *diffClient) diff(want map[string]map[string][]byte) string {
	var out []string
	for _, u := range diffTypeURLs {
		held := c.held[u]
		for name, b := range want[u] {
			got, ok := held[name]
			switch {
			case !ok:
				out = append(out, "missing "+name)
			case !bytes.Equal(got, b) && !proto.Equal(decodeAs(u, got), decodeAs(u, b)):
				out = append(out, "stale "+name)
			}
		}
		if c.delta == nil && !fullState(u) {
			continue
		}
		for name := range held {
			if _, ok := want[u][name]; !ok {
				out = append(out, "extra "+name)
			}
		}
	}
	if len(out) > 8 {
		out = append(out[:8], fmt.Sprintf("and %d more", len(out)-8))
	}
	return strings.Join(out, ", ")
}

var diffTypeURLs = []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType, resourcev3.ScopedRouteType}

// fullState reports whether SotW responses of the type hold the whole set.
func fullState(typeURL string) bool {
	return typeURL == resourcev3.ClusterType || typeURL == resourcev3.ListenerType || typeURL == resourcev3.ScopedRouteType
}

// decodeAs decodes a resource of a type, nil when it does not decode.
func decodeAs(typeURL string, b []byte) proto.Message {
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(typeURL)
	if err != nil {
		return nil
	}
	m := mt.New().Interface()
	if proto.Unmarshal(b, m) != nil {
		return nil
	}
	return m
}

// resourceName returns the name of an encoded resource.
func resourceName(typeURL string, b []byte) (string, error) {
	m := decodeAs(typeURL, b)
	if m == nil {
		return "", fmt.Errorf("a %s does not decode", typeURL)
	}
	if n := cache.GetResourceName(m); n != "" {
		return n, nil
	}
	return "", fmt.Errorf("a %s has no name", typeURL)
}
