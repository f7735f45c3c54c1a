package vitesstopo

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/topowatch"
	"github.com/shardmesh/shardmesh/pkg/vitesshealth"
)

// DefaultGlobalRoot is the Vitess global topology root of Vitess's examples
// (vtctld --topo-global-root).
const DefaultGlobalRoot = "/vitess/global"

// DefaultInitialHealthWait is Config.InitialHealthWait's default.
const DefaultInitialHealthWait = 5 * time.Second

// Config configures a Source. Zero values take the defaults of topowatch
// and vitesshealth.
type Config struct {
	// Client is the etcd client of the Vitess topology; required. Every
	// cell's topology (CellInfo.root) is read through it too: the cells'
	// server_address is not dialled. The caller owns the client.
	Client *clientv3.Client
	// GlobalRoot is the Vitess global root, DefaultGlobalRoot when empty.
	GlobalRoot string
	// OverlayPrefix is shardmesh's own prefix (keyspace policies, cell
	// placement, overrides, shifts), topowatch.DefaultPrefix when empty.
	OverlayPrefix string

	// HoldOff, MaxDelay, ProbeInterval and MaxBackoff configure every
	// root's topowatch.Watcher; HoldOff also batches health changes.
	HoldOff, MaxDelay, ProbeInterval, MaxBackoff time.Duration
	// HealthTimeout, HealthMinBackoff and HealthMaxBackoff configure the
	// tablets' health streams (vitesshealth.Config).
	HealthTimeout, HealthMinBackoff, HealthMaxBackoff time.Duration
	// HealthDialOptions are added to every tablet connection.
	HealthDialOptions []grpc.DialOption
	// InitialHealthWait bounds how long the first publication waits for
	// every tablet's stream to answer or fail, so that a restarted control
	// plane does not first publish every tablet as not serving (vtgate's
	// --gateway_initial_tablet_timeout). Default DefaultInitialHealthWait.
	InitialHealthWait time.Duration

	// Clock schedules everything; nil is the real clock.
	Clock clockwork.Clock
	// Logger receives bad records, stream failures and source errors.
	Logger *slog.Logger
	// OnHealth, if set, receives the global root Watcher's health.
	OnHealth func(topowatch.Health)
}

// Source publishes the topology of a Vitess cluster. Create it with New and
// start it with Run.
type Source struct {
	cfg    Config
	obs    topowatch.Observer
	log    *slog.Logger
	global string // GlobalRoot with a trailing "/"

	kick chan struct{} // a health change awaits publication

	pubMu     sync.Mutex // serialises observer calls; guards published
	published *topology.Topology

	mu      sync.Mutex // guards the fields below and every store's fields
	ctx     context.Context
	wg      *sync.WaitGroup
	roots   map[string]*rootStore // by prefix: global and cell roots
	overlay *overlayStore
	builder *topology.Builder
	derived map[string][]byte     // shardmesh records put into builder by the mapping
	memo    map[string]tabletMemo // by alias, from the last mapping
	health  map[string]vitesshealth.Status
	checker *vitesshealth.Checker
	latest  *topology.Topology // the last build
	rootsAt time.Time          // when every root was first listed; zero before
	globalW *topowatch.Watcher
}

// New returns a Source that publishes to obs. It does not contact etcd or
// tablets; Run does.
func New(cfg Config, obs topowatch.Observer) *Source {
	if cfg.GlobalRoot == "" {
		cfg.GlobalRoot = DefaultGlobalRoot
	}
	if cfg.OverlayPrefix == "" {
		cfg.OverlayPrefix = topowatch.DefaultPrefix
	}
	if cfg.HoldOff <= 0 {
		cfg.HoldOff = topowatch.DefaultHoldOff
	}
	if cfg.InitialHealthWait <= 0 {
		cfg.InitialHealthWait = DefaultInitialHealthWait
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Source{
		cfg:     cfg,
		obs:     obs,
		log:     cfg.Logger.With("source", "vitess"),
		global:  withSlash(cfg.GlobalRoot),
		kick:    make(chan struct{}, 1),
		roots:   map[string]*rootStore{},
		builder: topology.NewBuilder(),
		derived: map[string][]byte{},
		health:  map[string]vitesshealth.Status{},
	}
	s.overlay = &overlayStore{src: s, keys: map[string]bool{}, cells: map[string][]byte{}}
	s.checker = vitesshealth.New(vitesshealth.Config{
		Timeout: cfg.HealthTimeout, MinBackoff: cfg.HealthMinBackoff, MaxBackoff: cfg.HealthMaxBackoff,
		DialOptions: cfg.HealthDialOptions, Clock: cfg.Clock, Logger: s.log, OnChange: s.onHealth,
	})
	return s
}

func withSlash(p string) string {
	if strings.HasSuffix(p, "/") {
		return p
	}
	return p + "/"
}

// Run reads the Vitess topology and the overlay, keeps the tablets' health
// streams open and publishes until ctx is cancelled. It retries every
// failure and returns ctx.Err() once its goroutines have stopped. Run must
// be called once.
func (s *Source) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		s.checker.Close()
	}()
	s.mu.Lock()
	s.ctx, s.wg = ctx, &wg
	s.startRootLocked(s.global)
	ow := s.newWatcher(s.cfg.OverlayPrefix, s.overlay, nil)
	s.mu.Unlock()
	wg.Go(func() { _ = ow.Run(ctx) })
	wg.Go(func() { s.healthLoop(ctx) })
	<-ctx.Done()
	return ctx.Err()
}

// Health returns the health of the global root's Watcher: whether etcd
// answers and whether a complete topology has been published.
func (s *Source) Health() topowatch.Health {
	s.mu.Lock()
	w := s.globalW
	s.mu.Unlock()
	if w == nil {
		return topowatch.Health{}
	}
	return w.Health()
}

func (s *Source) newWatcher(prefix string, store topowatch.Store, onHealth func(topowatch.Health)) *topowatch.Watcher {
	return topowatch.New(topowatch.Config{
		Client: s.cfg.Client, Prefix: prefix, HoldOff: s.cfg.HoldOff, MaxDelay: s.cfg.MaxDelay,
		ProbeInterval: s.cfg.ProbeInterval, MaxBackoff: s.cfg.MaxBackoff, Clock: s.cfg.Clock,
		Logger: s.cfg.Logger, OnHealth: onHealth, Store: store,
	}, topowatch.ObserverFunc(s.deliver))
}

// startRootLocked starts the Watcher of a root not yet watched.
func (s *Source) startRootLocked(prefix string) {
	if _, ok := s.roots[prefix]; ok {
		return
	}
	r := &rootStore{src: s, prefix: prefix, recs: map[string]record{}, errs: map[string]error{}}
	var onHealth func(topowatch.Health)
	if prefix == s.global {
		onHealth = s.cfg.OnHealth
	}
	w := s.newWatcher(prefix, r, onHealth)
	if prefix == s.global {
		s.globalW = w
	}
	ctx, cancel := context.WithCancel(s.ctx)
	r.cancel = cancel
	s.roots[prefix] = r
	s.wg.Go(func() { _ = w.Run(ctx) })
	s.log.Info("watching vitess topology root", "root", prefix)
}

// deliver hands a built topology to the observer unless a newer build
// exists (it will be delivered by whoever built it) or it was delivered.
func (s *Source) deliver(t *topology.Topology) {
	if t == nil {
		return
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.mu.Lock()
	latest := s.latest
	s.mu.Unlock()
	if t != latest || t == s.published {
		return
	}
	s.published = t
	s.obs.OnTopology(t)
}

// onHealth records a tablet's new health and asks for a publication.
func (s *Source) onHealth(alias string, st vitesshealth.Status) {
	s.mu.Lock()
	s.health[alias] = st
	s.mu.Unlock()
	s.poke()
}

// poke asks healthLoop for a publication.
func (s *Source) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// healthLoop publishes health changes HoldOff after the first of a burst.
func (s *Source) healthLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		t := s.cfg.Clock.NewTimer(s.cfg.HoldOff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.Chan():
		}
		s.mu.Lock()
		topo := s.buildLocked()
		s.mu.Unlock()
		s.deliver(topo)
	}
}
