package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// Envoy sidecars cannot load API listeners over LDS, so Envoy node groups
// get one HTTP listener on a fixed loopback port instead. It picks the
// keyspace from the request's :authority (host without port) through
// scoped routes, each scope pointing at the keyspace's own route
// configuration: Envoy and gRPC clients share the per-keyspace routes.
const (
	// HTTPListenerName is the Envoy groups' HTTP listener and its scoped
	// route set.
	HTTPListenerName = "shardmesh_http"
	// HTTPListenerAddress and HTTPListenerPort are where applications in
	// the pod send gRPC for http://<keyspace>:15306.
	HTTPListenerAddress = "127.0.0.1"
	HTTPListenerPort    = 15306
)

func makeHTTPListener() *listenerv3.Listener {
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: HTTPListenerName,
		CodecType:  hcmv3.HttpConnectionManager_AUTO,
		RouteSpecifier: &hcmv3.HttpConnectionManager_ScopedRoutes{ScopedRoutes: &hcmv3.ScopedRoutes{
			Name: HTTPListenerName,
			ScopeKeyBuilder: &hcmv3.ScopedRoutes_ScopeKeyBuilder{Fragments: []*hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder{{
				Type: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_{
					HeaderValueExtractor: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor{
						Name:             ":authority",
						ElementSeparator: ":",
						ExtractType:      &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_Index{Index: 0},
					},
				},
			}}},
			RdsConfigSource: adsSource(),
			ConfigSpecifier: &hcmv3.ScopedRoutes_ScopedRds{ScopedRds: &hcmv3.ScopedRds{ScopedRdsConfigSource: adsSource()}},
		}},
		HttpFilters: []*hcmv3.HttpFilter{routerFilter},
	}
	return &listenerv3.Listener{
		Name: HTTPListenerName,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address:       HTTPListenerAddress,
			PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: HTTPListenerPort},
		}}},
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{{
				Name:       "envoy.filters.network.http_connection_manager",
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(hcm)},
			}},
		}},
	}
}

// makeScope maps the :authority "<keyspace>" to the keyspace's route
// configuration.
func makeScope(keyspace string) *routev3.ScopedRouteConfiguration {
	return &routev3.ScopedRouteConfiguration{
		Name:                   keyspace,
		RouteConfigurationName: keyspace,
		Key: &routev3.ScopedRouteConfiguration_Key{Fragments: []*routev3.ScopedRouteConfiguration_Key_Fragment{{
			Type: &routev3.ScopedRouteConfiguration_Key_Fragment_StringKey{StringKey: keyspace},
		}}},
	}
}
