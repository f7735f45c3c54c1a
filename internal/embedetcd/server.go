package embedetcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"

	"github.com/shardmesh/shardmesh/internal/freeport"
)

// memberName is the etcd member name. It is stored in the data directory,
// so it must not change between restarts on the same Dir.
const memberName = "shardmesh"

// Config configures an embedded etcd server.
type Config struct {
	// Dir is the data directory; required. Starting again on the same Dir
	// keeps the keys and revisions.
	Dir string
	// ClientAddr is the host:port of the client listener. Port 0 picks a
	// free port; Server.ClientAddr reports the one chosen, and
	// Server.Config returns a Config with it, for restarting on the same
	// port. Only IP addresses and "localhost" can be bound.
	ClientAddr string
	// PeerAddr is the host:port of the (unused, single-member) peer
	// listener; "" means 127.0.0.1:0. Port 0 is resolved as for ClientAddr.
	PeerAddr string
	// Logger receives etcd's errors; nil discards them.
	Logger *slog.Logger
}

// Server is a running embedded etcd server. Its methods are safe for
// concurrent use.
type Server struct {
	cfg     Config // with ports resolved
	etcd    *embed.Etcd
	streams *streamCanceler
	closing *atomic.Bool // demotes etcd's shutdown errors to Debug
	once    sync.Once
}

// Start starts an etcd server and waits until it serves clients. If ctx is
// done first, Start stops the server and returns an error wrapping
// ctx.Err(). The caller owns the returned Server and must Close it; ctx only
// bounds the start.
//
// A free port picked for port 0 is released before etcd binds it, so
// another process could in principle take it in between; tests accept that.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("embedetcd: Config.Dir is required")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("embedetcd: start etcd in %s: %w", cfg.Dir, err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PeerAddr == "" {
		cfg.PeerAddr = "127.0.0.1:0"
	}
	var err error
	if cfg.ClientAddr, err = resolvePort(cfg.ClientAddr); err != nil {
		return nil, fmt.Errorf("embedetcd: client address: %w", err)
	}
	if cfg.PeerAddr, err = resolvePort(cfg.PeerAddr); err != nil {
		return nil, fmt.Errorf("embedetcd: peer address: %w", err)
	}
	streams, closing := newStreamCanceler(), new(atomic.Bool)
	e, err := embed.StartEtcd(etcdConfig(cfg, streams, closing))
	if err != nil {
		return nil, fmt.Errorf("embedetcd: start etcd in %s: %w", cfg.Dir, err)
	}
	s := &Server{cfg: cfg, etcd: e, streams: streams, closing: closing}
	select {
	case <-e.Server.ReadyNotify():
		return s, nil
	case err := <-e.Err():
		s.Close()
		return nil, fmt.Errorf("embedetcd: etcd in %s failed while starting: %w", cfg.Dir, err)
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("embedetcd: waiting for etcd in %s to be ready: %w", cfg.Dir, ctx.Err())
	}
}

// etcdConfig is the embed configuration: a single member tuned to start in
// a few tens of milliseconds and to stay small on disk.
func etcdConfig(cfg Config, streams *streamCanceler, closing *atomic.Bool) *embed.Config {
	clientURL := url.URL{Scheme: "http", Host: cfg.ClientAddr}
	peerURL := url.URL{Scheme: "http", Host: cfg.PeerAddr}

	ec := embed.NewConfig()
	ec.Name = memberName
	ec.Dir = cfg.Dir
	ec.ListenClientUrls = []url.URL{clientURL}
	ec.AdvertiseClientUrls = []url.URL{clientURL}
	ec.ListenPeerUrls = []url.URL{peerURL}
	ec.AdvertisePeerUrls = []url.URL{peerURL}
	ec.InitialCluster = ec.InitialClusterFromName(memberName)
	ec.InitialClusterToken = "shardmesh-embedded"

	// One member elects itself after one tick (InitialElectionTickAdvance).
	ec.TickMs = 10
	ec.ElectionMs = 100
	ec.SnapshotCount = 1000
	ec.SnapshotCatchUpEntries = 100
	ec.MaxSnapFiles = 2
	ec.MaxWalFiles = 2
	// Tablet records change often; keep an hour of history for watchers
	// that resume, and let older revisions go.
	ec.AutoCompactionMode = embed.CompactorModePeriodic
	ec.AutoCompactionRetention = "1h"
	ec.EnableGRPCGateway = false

	ec.LogLevel = "error"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(newZapLogger(cfg.Logger, zapcore.ErrorLevel, closing))
	ec.GRPCAdditionalServerOptions = []grpc.ServerOption{grpc.ChainStreamInterceptor(streams.interceptor)}
	return ec
}

// resolvePort replaces port 0 in a host:port with a port that is free now,
// below the ephemeral range (freeport.Addr): etcd binds it a little later,
// and with tests running in parallel an outgoing connection could take an
// ephemeral port meanwhile.
func resolvePort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port != "0" {
		return addr, nil
	}
	return freeport.Addr(host)
}

// Endpoints returns the client URLs, such as http://127.0.0.1:2379, for
// clientv3.Config.Endpoints. The slice is the caller's.
func (s *Server) Endpoints() []string {
	return []string{(&url.URL{Scheme: "http", Host: s.cfg.ClientAddr}).String()}
}

// ClientAddr returns the host:port the server listens on for clients, with
// the port actually used.
func (s *Server) ClientAddr() string { return s.cfg.ClientAddr }

// Config returns the configuration the server runs with, ports resolved:
// Start(ctx, s.Config()) after Close brings the same etcd back on the same
// address and data.
func (s *Server) Config() Config { return s.cfg }

// Close stops the server: open client streams fail at once, and requests in
// flight are given etcd's request timeout to finish. Data stays in Dir.
// Close is idempotent.
func (s *Server) Close() {
	s.once.Do(func() {
		s.closing.Store(true)
		s.streams.cancelAll()
		s.etcd.Close()
	})
}
