package translate

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// MySQLPort is the loopback port of an Envoy sidecar's MySQL listener for a
// shard (by its index in key range order) and class: the keyspace's
// mysql_port_base + 4 × shard index + class index.
func MySQLPort(ks *topology.Keyspace, shardIndex int, c weights.Class) uint32 {
	for i, x := range weights.Classes {
		if x == c {
			return ks.MySQLPortBase + uint32(4*shardIndex+i)
		}
	}
	return 0
}

// MySQLClusterName is the TCP cluster of a shard's class for MySQL traffic.
func MySQLClusterName(keyspace, shard string, c weights.Class) string {
	return ClusterName(keyspace, shard, c) + "/mysql"
}

// makeTCPCluster is an EDS cluster for MySQL-protocol traffic: the same
// policy as the gRPC cluster (panic threshold 0, locality weights, circuit
// breakers, outlier detection on read classes) without HTTP/2.
func makeTCPCluster(name string, ks *topology.Keyspace, c weights.Class) *clusterv3.Cluster {
	cl := makeCluster(name, ks, c)
	cl.TypedExtensionProtocolOptions = nil
	return cl
}

// makeTCPListener listens on 127.0.0.1:port and proxies every connection to
// the cluster: a connection is bound to one tablet for its life, so new
// connections follow routing changes and existing ones drain.
func makeTCPListener(name string, port uint32, targets []tcpTarget) *listenerv3.Listener {
	proxy := &tcpv3.TcpProxy{StatPrefix: name, IdleTimeout: durationpb.New(time.Hour)}
	if len(targets) == 1 {
		proxy.ClusterSpecifier = &tcpv3.TcpProxy_Cluster{Cluster: targets[0].cluster}
	} else {
		wc := &tcpv3.TcpProxy_WeightedCluster{}
		for _, t := range targets {
			wc.Clusters = append(wc.Clusters, &tcpv3.TcpProxy_WeightedCluster_ClusterWeight{Name: t.cluster, Weight: t.weight})
		}
		proxy.ClusterSpecifier = &tcpv3.TcpProxy_WeightedClusters{WeightedClusters: wc}
	}
	return &listenerv3.Listener{
		Name: name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: HTTPListenerAddress, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
		}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name:       "envoy.filters.network.tcp_proxy",
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(proxy)},
		}}}},
	}
}

// tcpTarget is a MySQL cluster a TCP listener sends a share of connections to.
type tcpTarget struct {
	cluster string
	weight  uint32
}

// tcpTargets follows a class's route plan (routing rules and shifts): the
// shard's own MySQL cluster and, for each other keyspace its traffic goes
// to, the cluster of the shard there that holds the start of this shard's
// key range, if that keyspace has MySQL listeners too.
func tcpTargets(s *topology.Shard, c weights.Class, sides []routeSide) []tcpTarget {
	var out []tcpTarget
	for _, sd := range sides {
		if !sd.mysql {
			continue
		}
		if t := shardHolding(sd.shards, s.Range); t != nil {
			out = append(out, tcpTarget{MySQLClusterName(sd.keyspace, t.Name, c), sd.weight})
		}
	}
	if len(out) == 0 { // the shard's own cluster, whatever the plan
		out = []tcpTarget{{MySQLClusterName(s.Keyspace, s.Name, c), 100}}
	}
	return out
}
