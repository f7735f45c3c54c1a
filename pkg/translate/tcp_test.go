package translate_test

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// TestMySQLListenersForEnvoy: with mysql_port_base, an Envoy group gets a
// TCP listener per shard and class on the documented port, proxying to a
// TCP cluster whose endpoints are the tablets' MySQL ports; gRPC groups get
// none of it.
func TestMySQLListenersForEnvoy(t *testing.T) {
	b := loadSeed(t, "healthy-baseline")
	if err := b.Put("keyspaces/commerce", []byte(`{"schema_versions":["v41","v42"],"mysql_port_base":15400}`)); err != nil {
		t.Fatal(err)
	}
	r := renderGroups(t, b.Build(2), standardGroups)
	for group, g := range standardGroups {
		listeners := r.snaps[group].GetResources(resourcev3.ListenerType)
		l, ok := listeners["mysql:commerce/80-/rdonly"].(*listenerv3.Listener)
		if g.Kind == weights.KindGRPC {
			if ok {
				t.Errorf("gRPC group %s got MySQL listeners", group)
			}
			continue
		}
		if !ok {
			t.Fatalf("Envoy group %s: no listener mysql:commerce/80-/rdonly", group)
		}
		// 80- is the second shard, rdonly the fourth class: 15400 + 4 + 3.
		if p := l.GetAddress().GetSocketAddress().GetPortValue(); p != 15407 {
			t.Errorf("mysql:commerce/80-/rdonly on port %d, want 15407", p)
		}
		var proxy tcpv3.TcpProxy
		if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&proxy); err != nil || proxy.GetCluster() != "commerce/80-/rdonly/mysql" {
			t.Errorf("listener proxies to %q (%v)", proxy.GetCluster(), err)
		}
		cl := r.snaps[group].GetResources(resourcev3.ClusterType)["commerce/80-/rdonly/mysql"].(*clusterv3.Cluster)
		if len(cl.GetTypedExtensionProtocolOptions()) != 0 || cl.GetCommonLbConfig().GetHealthyPanicThreshold().GetValue() != 0 {
			t.Errorf("MySQL cluster: %v", cl)
		}
		cla := r.snaps[group].GetResources(resourcev3.EndpointType)["commerce/-80/primary/mysql"].(*endpointv3.ClusterLoadAssignment)
		for _, loc := range cla.GetEndpoints() {
			for _, e := range loc.GetLbEndpoints() {
				if p := e.GetEndpoint().GetAddress().GetSocketAddress().GetPortValue(); p != 3306 {
					t.Errorf("MySQL endpoint %s on port %d, want 3306", e.GetEndpoint().GetHostname(), p)
				}
			}
		}
		if _, ok := listeners["mysql:customer/0/primary"]; ok {
			t.Error("customer has no mysql_port_base but got a MySQL listener")
		}
		if n := len(listeners); n != 1+2*4 {
			t.Errorf("Envoy group %s: %d listeners, want the HTTP one and 8 MySQL ones", group, n)
		}
	}
	if got := translate.MySQLPort(r.topo.Keyspaces["commerce"], 0, weights.ClassPrimary); got != 15400 {
		t.Errorf("MySQLPort(-80, primary) = %d", got)
	}
}

// TestMySQLListenersFollowShifts: during a shift of commerce's replica
// reads into customer (both with MySQL listeners), commerce's replica TCP
// listeners split connections by the shift's weights.
func TestMySQLListenersFollowShifts(t *testing.T) {
	b := loadSeed(t, "healthy-baseline")
	for k, v := range map[string]string{
		"keyspaces/commerce": `{"schema_versions":["v41","v42"],"mysql_port_base":15400}`,
		"keyspaces/customer": `{"mysql_port_base":15500}`,
		"shifts/to-customer": `{"keyspace":"commerce","tablet_type":"replica","to_keyspace":"customer","steps":[25,100],"hold":"1h","started_at":"2026-11-21T11:30:00Z"}`,
	} {
		if err := b.Put(k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	r := renderGroups(t, b.Build(2), map[string]translate.Group{"envoy": envoyEast})
	l := r.snaps["envoy"].GetResources(resourcev3.ListenerType)["mysql:commerce/80-/replica"].(*listenerv3.Listener)
	var proxy tcpv3.TcpProxy
	if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&proxy); err != nil {
		t.Fatal(err)
	}
	got := map[string]uint32{}
	for _, c := range proxy.GetWeightedClusters().GetClusters() {
		got[c.GetName()] = c.GetWeight()
	}
	if len(got) != 2 || got["commerce/80-/replica/mysql"] != 75 || got["customer/0/replica/mysql"] != 25 {
		t.Errorf("weighted clusters %v, want commerce 75 / customer 25", got)
	}
}
