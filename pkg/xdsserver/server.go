package xdsserver

import (
	"context"
	"log/slog"
	"net"
	"time"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

// Server is an xDS server for a snapshot cache.
type Server struct {
	cache    *xdscache.Cache
	log      *slog.Logger
	grpc     *grpc.Server
	streams  streams
	observer Observer
	// tenantFromCert: with mTLS, a node's tenant comes from its client
	// certificate (URI SAN spiffe://<domain>/tenant/<name>) and its
	// metadata cannot override it.
	tenantFromCert bool
}

// TenantFromCertificate makes the tenant of every node the one named by its
// mTLS client certificate's URI SAN (spiffe://<domain>/tenant/<name>), or no
// tenant when the certificate names none, whatever its node metadata says.
// Call it before Serve, when the server requires client certificates.
func (s *Server) TenantFromCertificate() { s.tenantFromCert = true }

// Observer receives stream events, for metrics. Its methods are called on
// the streams' goroutines: they must be fast and safe for concurrent use.
type Observer interface {
	StreamOpened(group string)
	StreamClosed(group string)
	Responded(typeURL string, resources int)
	Acked(group, typeURL, version string)
	Nacked(group, typeURL string)
}

// NopObserver ignores every event.
type NopObserver struct{}

func (NopObserver) StreamOpened(string)          {}
func (NopObserver) StreamClosed(string)          {}
func (NopObserver) Responded(string, int)        {}
func (NopObserver) Acked(string, string, string) {}
func (NopObserver) Nacked(string, string)        {}

var _ Observer = NopObserver{}

// Observe sets the observer of stream events; call it before Serve.
func (s *Server) Observe(o Observer) { s.observer = o }

// New returns a server for the cache; opts are extra gRPC server options
// (credentials, for example). The logger may be nil.
func New(c *xdscache.Cache, log *slog.Logger, opts ...grpc.ServerOption) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cache: c, log: log, observer: NopObserver{}}
	opts = append([]grpc.ServerOption{
		grpc.MaxConcurrentStreams(1 << 20),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}, opts...)
	s.grpc = grpc.NewServer(append([]grpc.ServerOption{grpc.ForceServerCodecV2(codec{})}, opts...)...)
	xds := serverv3.NewServer(context.Background(), c.Watcher(), s.callbacks())
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(s.grpc, xds)
	clusterservice.RegisterClusterDiscoveryServiceServer(s.grpc, xds)
	endpointservice.RegisterEndpointDiscoveryServiceServer(s.grpc, xds)
	listenerservice.RegisterListenerDiscoveryServiceServer(s.grpc, xds)
	routeservice.RegisterRouteDiscoveryServiceServer(s.grpc, xds)
	return s
}

// Serve accepts xDS streams on lis until Stop; it returns the error of
// grpc.Server.Serve.
func (s *Server) Serve(lis net.Listener) error { return s.grpc.Serve(lis) }

// Stop closes every stream and the listeners at once.
func (s *Server) Stop() { s.grpc.Stop() }

// GracefulStop stops accepting streams and waits for open ones to end.
func (s *Server) GracefulStop() { s.grpc.GracefulStop() }

// Nodes returns the status of every connected stream.
func (s *Server) Nodes() []NodeStatus { return s.streams.Nodes() }
