package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// scrape fetches /metrics and parses it as Prometheus does.
func scrape(t *testing.T, e *env) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s/metrics", e.app.AdminAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return mfs
}

// sum adds the values of a family's series whose labels include want.
func sum(mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	total := 0.0
	for _, m := range mfs[name].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && labels[k] == v
		}
		if !ok {
			continue
		}
		switch {
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Histogram != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total
}

func TestMetricsAndAdminViews(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "commerce")
	routesTo(t, c, "zone1-0000000102", replicaMinus80...)
	resp, err := e.app.Client.Get(t.Context(), "/shardmesh/")
	if err != nil {
		t.Fatal(err)
	}
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		mfs := scrape(t, e)
		checks := []struct {
			name string
			got  float64
			ok   bool
		}{
			{"revision", sum(mfs, "shardmesh_topology_revision", nil), sum(mfs, "shardmesh_topology_revision", nil) == float64(resp.Header.Revision)},
			{"commerce tablets", sum(mfs, "shardmesh_tablets", map[string]string{"keyspace": "commerce"}), sum(mfs, "shardmesh_tablets", map[string]string{"keyspace": "commerce"}) == 7},
			{"source up", sum(mfs, "shardmesh_etcd_source_up", nil), sum(mfs, "shardmesh_etcd_source_up", nil) == 1},
			{"streams of the client's group", sum(mfs, "shardmesh_streams", map[string]string{"group": "grpc/r1/r1a/"}), sum(mfs, "shardmesh_streams", map[string]string{"group": "grpc/r1/r1a/"}) == 1},
			{"EDS ACKs", sum(mfs, "shardmesh_acks_total", map[string]string{"type": "ClusterLoadAssignment"}), sum(mfs, "shardmesh_acks_total", map[string]string{"type": "ClusterLoadAssignment"}) >= 1},
			{"publish→ACK samples", sum(mfs, "shardmesh_convergence_seconds", map[string]string{"stage": "ack"}), sum(mfs, "shardmesh_convergence_seconds", map[string]string{"stage": "ack"}) >= 1},
			{"builds", sum(mfs, "shardmesh_snapshot_builds_total", nil), sum(mfs, "shardmesh_snapshot_builds_total", nil) >= 1},
		}
		for _, c := range checks {
			if !c.ok {
				return false, fmt.Sprintf("%s = %v", c.name, c.got)
			}
		}
		return true, ""
	})

	var cfg struct {
		Group     string                                `json:"group"`
		Resources map[string]map[string]json.RawMessage `json:"resources"`
	}
	e.admin("/debug/config?region=r1&zone=r1a&kind=envoy", &cfg)
	if cfg.Group != "envoy/r1/r1a/" || cfg.Resources[resourcev3.EndpointType]["commerce/-80/replica"] == nil ||
		cfg.Resources[resourcev3.ListenerType]["shardmesh_http"] == nil {
		t.Errorf("/debug/config: group %q, %d assignments, listeners %v", cfg.Group, len(cfg.Resources[resourcev3.EndpointType]), keys(cfg.Resources[resourcev3.ListenerType]))
	}
	var rank struct {
		Cells []struct{ Cell string }
	}
	e.admin("/debug/azrank?shard=commerce/-80", &rank)
	if len(rank.Cells) != 3 {
		t.Errorf("/debug/azrank: %+v, want 3 cells", rank)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestNACKStormIsBounded connects a raw ADS client that rejects every
// response: the server must not answer a NACK by re-sending the rejected
// version, must show the NACK in /debug/nodes and count it, and must send
// the next version when the topology changes.
func TestNACKStormIsBounded(t *testing.T) {
	e := newEnv(t)
	e.allowNACKs()
	conn, err := grpc.NewClient(e.app.XDSAddr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	node := &corev3.Node{Id: "nacker", UserAgentName: "grpc-go-nacker", Locality: &corev3.Locality{Region: "r1", Zone: "r1a"}}
	if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resourcev3.EndpointType, ResourceNames: []string{"commerce/-80/replica"}}); err != nil {
		t.Fatal(err)
	}
	responses := make(chan *discoveryv3.DiscoveryResponse, 100)
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				close(responses)
				return
			}
			responses <- resp
			// Reject it, as a strict client rejecting this config would.
			_ = stream.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResourceNames: []string{"commerce/-80/replica"},
				ResponseNonce: resp.GetNonce(), ErrorDetail: &status.Status{Code: 3, Message: "rejected by test"}})
		}
	}()
	first := <-responses
	// Any re-send of the rejected version would arrive right after the
	// NACK; wait until the server has processed it (the NACK is recorded)
	// and then check for a bounded window that nothing else came.
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		for _, n := range e.app.Server.Nodes() {
			if n.NodeID == "nacker" && n.LastNack != nil && n.LastNack.Error == "rejected by test" && n.LastNack.Version == first.GetVersionInfo() {
				return true, ""
			}
		}
		return false, "the NACK is not in /debug/nodes"
	})
	nacksBefore := sum(scrape(t, e), "shardmesh_nacks_total", map[string]string{"type": "ClusterLoadAssignment"})
	if nacksBefore < 1 {
		t.Errorf("shardmesh_nacks_total = %v after a NACK", nacksBefore)
	}
	select {
	case r := <-responses:
		t.Fatalf("the server answered a NACK with version %s (the rejected one was %s)", r.GetVersionInfo(), first.GetVersionInfo())
	case <-time.After(500 * time.Millisecond): // a bounded window in which no response may come
	}
	e.update("zone1-0000000102", map[string]any{"state": "NOT_SERVING"})
	select {
	case r := <-responses:
		if r.GetVersionInfo() == first.GetVersionInfo() {
			t.Errorf("after a topology change the server re-sent the rejected version %s", r.GetVersionInfo())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no new version after the topology changed")
	}
	n := 0
	for {
		select {
		case <-responses:
			n++
		case <-time.After(500 * time.Millisecond): // the absence of responses can only be watched for a while
			if n > 0 {
				t.Errorf("%d more responses after one topology change; want none", n)
			}
			return
		}
	}
}
