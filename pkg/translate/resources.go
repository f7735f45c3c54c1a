package translate

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// ClusterName is the name of the cluster (and its assignment) of one class
// of one shard: "<keyspace>/<shard>/<class>".
func ClusterName(keyspace, shard string, class weights.Class) string {
	return keyspace + "/" + shard + "/" + string(class)
}

func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err) // only on a message type that is not linked in
	}
	return a
}

// http2Options makes Envoy speak HTTP/2 (gRPC) to tablets.
var http2Options = mustAny(&httpv3.HttpProtocolOptions{
	UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
		ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{},
		},
	},
})

// makeCluster returns the EDS cluster of one class of one shard.
//
// The panic threshold is 0: by default Envoy routes to every host, healthy
// or not, once fewer than half are healthy, which would send traffic to
// fenced primaries and wrong-schema tablets. Locality-weighted load
// balancing makes Envoy honour the locality weights, as gRPC always does.
//
// Circuit breakers come from the keyspace policy (gRPC honours max_requests
// only). Outlier detection ejects failing replica and rdonly tablets; the
// single-primary clusters never eject, since ejecting the only primary
// would turn a few errors into an outage.
func makeCluster(name string, ks *topology.Keyspace, class weights.Class) *clusterv3.Cluster {
	cb := ks.CircuitBreakers
	c := &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsSource()},
		ConnectTimeout:       durationpb.New(time.Second),
		LbPolicy:             clusterv3.Cluster_ROUND_ROBIN,
		CommonLbConfig: &clusterv3.Cluster_CommonLbConfig{
			HealthyPanicThreshold: &typev3.Percent{Value: 0},
			LocalityConfigSpecifier: &clusterv3.Cluster_CommonLbConfig_LocalityWeightedLbConfig_{
				LocalityWeightedLbConfig: &clusterv3.Cluster_CommonLbConfig_LocalityWeightedLbConfig{},
			},
		},
		TypedExtensionProtocolOptions: map[string]*anypb.Any{
			"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": http2Options,
		},
		CircuitBreakers: &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			Priority:           corev3.RoutingPriority_DEFAULT,
			MaxConnections:     wrapperspb.UInt32(cb.MaxConnections),
			MaxPendingRequests: wrapperspb.UInt32(cb.MaxPendingRequests),
			MaxRequests:        wrapperspb.UInt32(cb.MaxRequests),
			MaxRetries:         wrapperspb.UInt32(cb.MaxRetries),
		}}},
	}
	if od := ks.OutlierDetection; od.Enabled && (class == weights.ClassReplica || class == weights.ClassRdonly) {
		c.OutlierDetection = &clusterv3.OutlierDetection{
			Interval:                       durationpb.New(od.Interval),
			BaseEjectionTime:               durationpb.New(od.BaseEjectionTime),
			MaxEjectionPercent:             wrapperspb.UInt32(od.MaxEjectionPercent),
			Consecutive_5Xx:                wrapperspb.UInt32(od.Consecutive5xx),
			FailurePercentageThreshold:     wrapperspb.UInt32(od.FailurePercentThreshold),
			EnforcingFailurePercentage:     wrapperspb.UInt32(100),
			FailurePercentageMinimumHosts:  wrapperspb.UInt32(od.FailurePercentMinimumHost),
			FailurePercentageRequestVolume: wrapperspb.UInt32(od.FailurePercentRequestVol),
			EnforcingSuccessRate:           wrapperspb.UInt32(0),
		}
	}
	return c
}

var healthStatus = map[weights.Health]corev3.HealthStatus{
	weights.Healthy:   corev3.HealthStatus_HEALTHY,
	weights.Degraded:  corev3.HealthStatus_DEGRADED,
	weights.Draining:  corev3.HealthStatus_DRAINING,
	weights.Unhealthy: corev3.HealthStatus_UNHEALTHY,
}

// makeAssignment translates an assignment. An assignment with no endpoints
// is a valid, empty ClusterLoadAssignment: Envoy answers 503 "no healthy
// upstream" and gRPC clients fail with UNAVAILABLE.
func makeAssignment(name string, a weights.Assignment) *endpointv3.ClusterLoadAssignment {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: name}
	for _, l := range a.Localities {
		le := &endpointv3.LocalityLbEndpoints{
			Locality:            &corev3.Locality{Region: l.Region, Zone: l.Zone, SubZone: l.Cell},
			Priority:            l.Priority,
			LoadBalancingWeight: wrapperspb.UInt32(l.Weight),
		}
		for _, e := range l.Endpoints {
			le.LbEndpoints = append(le.LbEndpoints, &endpointv3.LbEndpoint{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
					Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
						Address:       e.Host,
						PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: e.Port},
					}}},
					Hostname: e.Alias,
				}},
				HealthStatus:        healthStatus[e.Health],
				LoadBalancingWeight: wrapperspb.UInt32(e.Weight),
			})
		}
		cla.Endpoints = append(cla.Endpoints, le)
	}
	return cla
}

var routerFilter = &hcmv3.HttpFilter{
	Name:       "envoy.filters.http.router",
	ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&routerv3.Router{})},
}

// makeAPIListener returns the listener a proxyless gRPC client resolves when
// it dials xds:///<keyspace>: an HTTP connection manager that takes its
// routes over RDS from the route configuration of the same name.
func makeAPIListener(keyspace string) *listenerv3.Listener {
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: keyspace,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			RouteConfigName: keyspace,
			ConfigSource:    adsSource(),
		}},
		HttpFilters: []*hcmv3.HttpFilter{routerFilter},
	}
	return &listenerv3.Listener{
		Name:        keyspace,
		ApiListener: &listenerv3.ApiListener{ApiListener: mustAny(hcm)},
	}
}
