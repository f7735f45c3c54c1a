package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// watchKey is a tablet endpoint of a cluster whose health a change flips.
type watchKey struct {
	cluster string
	alias   string
}

// adsClient is a lightweight xDS client (SotW or delta) subscribed to some
// ClusterLoadAssignments, ACKing everything, that notes when it first sees
// a watched endpoint with a wanted health status.
type adsClient struct {
	id       string
	delta    bool
	clusters []string

	mu        sync.Mutex                       // guards the fields below
	want      map[watchKey]corev3.HealthStatus // what the current change waits for
	seen      map[watchKey]time.Time           // when it was first seen
	responses int                              // responses received
	resources int                              // resources received
	bytes     int                              // resource bytes received
	ready     chan struct{}                    // closed after the first response
	readyOnce sync.Once
	runErr    error // why the stream ended, if it did
}

func (c *adsClient) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runErr = err
}

func (c *adsClient) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runErr
}

func newClient(id string, delta bool, clusters []string) *adsClient {
	return &adsClient{id: id, delta: delta, clusters: clusters, want: map[watchKey]corev3.HealthStatus{},
		seen: map[watchKey]time.Time{}, ready: make(chan struct{})}
}

// expect makes the client note when k reaches health h.
func (c *adsClient) expect(k watchKey, h corev3.HealthStatus) {
	c.mu.Lock()
	c.want[k] = h
	delete(c.seen, k)
	c.mu.Unlock()
}

func (c *adsClient) seenAt(k watchKey) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.seen[k]
	return t, ok
}

func (c *adsClient) counters() (responses, resources, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.responses, c.resources, c.bytes
}

// inspect records a received ClusterLoadAssignment if the client waits on
// one of its endpoints. It reads the cluster name from the wire first, so
// only watched assignments are decoded.
func (c *adsClient) inspect(raw []byte, at time.Time) {
	name := clusterName(raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resources++
	c.bytes += len(raw)
	var cla *endpointv3.ClusterLoadAssignment
	for k, h := range c.want {
		if k.cluster != name {
			continue
		}
		if cla == nil {
			cla = &endpointv3.ClusterLoadAssignment{}
			if proto.Unmarshal(raw, cla) != nil {
				return
			}
		}
		for _, l := range cla.GetEndpoints() {
			for _, e := range l.GetLbEndpoints() {
				if e.GetEndpoint().GetHostname() == k.alias && endpointHealth(e, h) {
					if _, ok := c.seen[k]; !ok {
						c.seen[k] = at
					}
				}
			}
		}
	}
}

// endpointHealth: gRPC groups leave unusable tablets out, so for them an
// expected UNHEALTHY shows as absence; here clients are Envoy-kind nodes,
// which keep every tablet with its status.
func endpointHealth(e *endpointv3.LbEndpoint, h corev3.HealthStatus) bool {
	return e.GetHealthStatus() == h
}

// clusterName reads field 1 (cluster_name) of a ClusterLoadAssignment.
func clusterName(b []byte) string {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return ""
			}
			return string(v)
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return ""
		}
		b = b[m:]
	}
	return ""
}

func (c *adsClient) node(region, zone string) *corev3.Node {
	return &corev3.Node{Id: c.id, UserAgentName: "envoy", Locality: &corev3.Locality{Region: region, Zone: zone}}
}

// run streams until ctx ends.
func (c *adsClient) run(ctx context.Context, conn *grpc.ClientConn, region, zone string) error {
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	if c.delta {
		return c.runDelta(ctx, ads, region, zone)
	}
	stream, err := ads.StreamAggregatedResources(ctx)
	if err != nil {
		return err
	}
	req := &discoveryv3.DiscoveryRequest{Node: c.node(region, zone), TypeUrl: resourcev3.EndpointType, ResourceNames: c.clusters}
	if err := stream.Send(req); err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		at := time.Now()
		c.mu.Lock()
		c.responses++
		c.mu.Unlock()
		for _, r := range resp.GetResources() {
			c.inspect(r.GetValue(), at)
		}
		c.readyOnce.Do(func() { close(c.ready) })
		ack := &discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResourceNames: c.clusters,
			VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce()}
		if err := stream.Send(ack); err != nil {
			return err
		}
	}
}

func (c *adsClient) runDelta(ctx context.Context, ads discoveryv3.AggregatedDiscoveryServiceClient, region, zone string) error {
	stream, err := ads.DeltaAggregatedResources(ctx)
	if err != nil {
		return err
	}
	req := &discoveryv3.DeltaDiscoveryRequest{Node: c.node(region, zone), TypeUrl: resourcev3.EndpointType, ResourceNamesSubscribe: c.clusters}
	if err := stream.Send(req); err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		at := time.Now()
		c.mu.Lock()
		c.responses++
		c.mu.Unlock()
		for _, r := range resp.GetResources() {
			c.inspect(r.GetResource().GetValue(), at)
		}
		c.readyOnce.Do(func() { close(c.ready) })
		if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResponseNonce: resp.GetNonce()}); err != nil {
			return err
		}
	}
}

func (c *adsClient) String() string { return fmt.Sprintf("client %s (delta %v)", c.id, c.delta) }
