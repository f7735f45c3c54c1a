package app

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/shardmesh/shardmesh/internal/embedetcd"
	"github.com/shardmesh/shardmesh/internal/metrics"
	"github.com/shardmesh/shardmesh/internal/ops"
	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/topowatch"
	"github.com/shardmesh/shardmesh/pkg/vitesstopo"
	"github.com/shardmesh/shardmesh/pkg/xdscache"
	"github.com/shardmesh/shardmesh/pkg/xdsserver"
)

// Config is everything xds-server needs; cmd/xds-server fills it from flags.
type Config struct {
	EtcdEndpoints    []string // empty: run an embedded etcd
	EtcdPrefix       string   // default "/shardmesh/"
	EtcdDialTimeout  time.Duration
	EmbeddedEtcdAddr string // client address of the embedded etcd
	EtcdDataDir      string // data directory of the embedded etcd
	SeedFile         string // optional YAML seed applied to etcd at start

	XDSAddr   string // "host:port"; port 0 picks a free port
	AdminAddr string // "" disables the admin server

	// XDSTLS serves xDS over TLS; with a CA, mTLS, and each node's tenant
	// then comes from its certificate's spiffe://<domain>/tenant/<name> SAN.
	XDSTLS TLSFiles
	// EtcdTLS and the credentials below are for an external etcd.
	EtcdTLS      TLSFiles
	EtcdUsername string
	EtcdPassword string

	// Source is where the topology comes from: SourceShardmesh (default,
	// records under EtcdPrefix) or SourceVitess (see Vitess).
	Source string
	Vitess VitessConfig

	// MaxConnectionAge and MaxConnectionAgeGrace bound an xDS
	// connection's life (see keepaliveOption); zero takes the defaults,
	// negative means forever.
	MaxConnectionAge      time.Duration
	MaxConnectionAgeGrace time.Duration
	// DrainTimeout is how long Drain lets clients move before closing
	// their streams; zero takes DefaultDrainTimeout.
	DrainTimeout time.Duration

	HoldOff  time.Duration // topology batching hold-off
	MaxDelay time.Duration // topology batching maximum delay

	Logger      *slog.Logger
	Clock       clockwork.Clock     // nil: the real clock
	GRPCOptions []grpc.ServerOption // extra xDS server options (credentials)
	// Serve is passed to xdscache.CacheOptions: ServeLinear serves from
	// go-control-plane's LinearCaches, for cmd/xds-bench -serve linear.
	Serve xdscache.Serve
	// OnBuild, if set, is called after each topology rebuild, after the
	// metrics are updated (cmd/xds-bench times the pipeline's stages).
	OnBuild func(xdscache.BuildStats)
}

// App is a running xds-server.
type App struct {
	Etcd    *embedetcd.Server // nil with external etcd
	Client  *clientv3.Client
	Cache   *xdscache.Cache
	Watcher *topowatch.Watcher // nil with the Vitess source
	Vitess  *vitesstopo.Source // nil with the shardmesh source
	Server  *xdsserver.Server
	Metrics *metrics.Metrics

	XDSAddr   net.Addr
	AdminAddr net.Addr // nil when disabled

	log    *slog.Logger
	cfg    Config
	cancel context.CancelFunc
	wg     sync.WaitGroup
	admin  *http.Server
	synced chan struct{}

	draining atomic.Bool // set by Drain: /readyz answers 503
}

// Start starts every part and returns once they are listening; the first
// topology sync happens in the background (see Ready and WaitReady). On
// error everything started so far is stopped.
func Start(ctx context.Context, cfg Config) (_ *App, err error) {
	cfg.defaults()
	a := &App{log: cfg.Logger, cfg: cfg, synced: make(chan struct{})}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	endpoints := cfg.EtcdEndpoints
	if len(endpoints) == 0 {
		a.Etcd, err = embedetcd.Start(ctx, embedetcd.Config{Dir: cfg.EtcdDataDir, ClientAddr: cfg.EmbeddedEtcdAddr, Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("embedded etcd: %w", err)
		}
		endpoints = a.Etcd.Endpoints()
		a.log.Info("embedded etcd started", "client_urls", endpoints, "data_dir", cfg.EtcdDataDir)
	}
	etcdCfg := clientv3.Config{Endpoints: endpoints, DialTimeout: cfg.EtcdDialTimeout, Logger: zap.NewNop(),
		Username: cfg.EtcdUsername, Password: cfg.EtcdPassword, DialOptions: topowatch.DialOptions()}
	if cfg.EtcdTLS.enabled() {
		if etcdCfg.TLS, err = clientTLS(cfg.EtcdTLS); err != nil {
			return nil, err
		}
	}
	a.Client, err = clientv3.New(etcdCfg)
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	if cfg.SeedFile != "" {
		if err := a.seed(ctx, cfg); err != nil {
			return nil, err
		}
	}

	var once sync.Once
	a.Metrics = metrics.New(func(group, typeURL, version string) (time.Time, bool) {
		return a.Cache.PublishedAt(group, typeURL, version)
	})
	onBuild := a.Metrics.OnBuild
	if cfg.OnBuild != nil {
		onBuild = func(s xdscache.BuildStats) { a.Metrics.OnBuild(s); cfg.OnBuild(s) }
	}
	a.Cache = xdscache.NewCache(xdscache.CacheOptions{Logger: cfg.Logger, Now: cfg.Clock.Now, OnBuild: onBuild, Serve: cfg.Serve})
	obs := topowatch.ObserverFunc(func(t *topology.Topology) {
		a.Metrics.OnTopology(t)
		a.Cache.OnTopology(t)
		once.Do(func() { close(a.synced) })
	})
	if cfg.Source == SourceVitess {
		a.Vitess = newVitessSource(cfg, a.Client, a.Metrics.OnHealth, obs)
	} else {
		a.Watcher = topowatch.New(topowatch.Config{
			Client: a.Client, Prefix: cfg.EtcdPrefix, HoldOff: cfg.HoldOff, MaxDelay: cfg.MaxDelay,
			Clock: cfg.Clock, Logger: cfg.Logger, OnHealth: a.Metrics.OnHealth,
		}, obs)
	}

	grpcOpts := append([]grpc.ServerOption{keepaliveOption(cfg)}, cfg.GRPCOptions...)
	if cfg.XDSTLS.enabled() {
		tlsCfg, err := serverTLS(cfg.XDSTLS)
		if err != nil {
			return nil, err
		}
		grpcOpts = append(grpcOpts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	a.Server = xdsserver.New(a.Cache, cfg.Logger, grpcOpts...)
	a.Server.Observe(a.Metrics)
	if cfg.XDSTLS.CA != "" {
		a.Server.TenantFromCertificate()
	}
	xlis, err := net.Listen("tcp", cfg.XDSAddr)
	if err != nil {
		return nil, fmt.Errorf("--xds-addr: %w", err)
	}
	a.XDSAddr = xlis.Addr()
	if cfg.AdminAddr != "" {
		alis, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			xlis.Close()
			return nil, fmt.Errorf("--admin-addr: %w", err)
		}
		a.AdminAddr = alis.Addr()
		a.admin = &http.Server{Handler: a.adminHandler(), ReadHeaderTimeout: 5 * time.Second}
		a.goRun(func() { _ = a.admin.Serve(alis) })
	}
	runCtx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.goRun(func() { _ = a.Server.Serve(xlis) })
	a.goRun(func() { _ = a.runSource(runCtx) })
	a.goRun(func() { _ = a.Cache.RunPhaseTimer(runCtx, cfg.Clock) })
	a.log.Info("xds-server listening", "xds", a.XDSAddr.String(), "admin", cfg.AdminAddr, "etcd_prefix", cfg.EtcdPrefix)
	return a, nil
}

func (c *Config) defaults() {
	if c.EtcdPrefix == "" {
		c.EtcdPrefix = "/shardmesh/"
	}
	if c.EtcdDialTimeout == 0 {
		c.EtcdDialTimeout = 2 * time.Second
	}
	if c.EmbeddedEtcdAddr == "" {
		c.EmbeddedEtcdAddr = "127.0.0.1:2379"
	}
	if c.EtcdDataDir == "" {
		c.EtcdDataDir = "default.etcd"
	}
	if c.MaxConnectionAge == 0 {
		c.MaxConnectionAge = DefaultMaxConnectionAge
	}
	if c.MaxConnectionAge < 0 {
		c.MaxConnectionAge = time.Duration(math.MaxInt64) // gRPC's "infinity"
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.MaxConnectionAgeGrace == 0 {
		c.MaxConnectionAgeGrace = DefaultMaxConnectionAgeGrace
	}
	if c.MaxConnectionAgeGrace < 0 {
		c.MaxConnectionAgeGrace = time.Duration(math.MaxInt64)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
}

func (a *App) seed(ctx context.Context, cfg Config) error {
	data, err := os.ReadFile(cfg.SeedFile)
	if err != nil {
		return fmt.Errorf("--seed: %w", err)
	}
	recs, err := topology.ParseSeed(data)
	if err != nil {
		return fmt.Errorf("--seed %s: %w", cfg.SeedFile, err)
	}
	if err := ops.ApplyRecords(ctx, a.Client, cfg.EtcdPrefix, recs); err != nil {
		return fmt.Errorf("--seed %s: %w", cfg.SeedFile, err)
	}
	a.log.Info("seed applied", "file", cfg.SeedFile, "records", len(recs))
	return nil
}

func (a *App) goRun(f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
}

// Ready reports whether the first complete topology sync has been served.
func (a *App) Ready() bool {
	select {
	case <-a.synced:
		return true
	default:
		return false
	}
}

// WaitReady blocks until Ready or ctx ends.
func (a *App) WaitReady(ctx context.Context) error {
	select {
	case <-a.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops everything and waits for it to end.
func (a *App) Close() {
	if a.cancel != nil {
		a.cancel()
	}
	if a.Server != nil {
		a.Server.Stop()
	}
	if a.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = a.admin.Shutdown(ctx)
		cancel()
	}
	a.wg.Wait()
	if a.Client != nil {
		a.Client.Close()
	}
	if a.Etcd != nil {
		a.Etcd.Close()
	}
}
