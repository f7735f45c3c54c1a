package topowatch

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// Defaults for the zero values of Config.
const (
	DefaultPrefix        = "/shardmesh/"
	DefaultHoldOff       = 5 * time.Millisecond
	DefaultMaxDelay      = 50 * time.Millisecond
	DefaultPageSize      = 1000
	DefaultProbeInterval = time.Second
	DefaultMaxBackoff    = 500 * time.Millisecond
	DefaultStallInterval = 300 * time.Millisecond
)

// minBackoff is the first retry delay; it never exceeds MaxBackoff.
const minBackoff = 50 * time.Millisecond

// requestTimeout bounds each Get of a listing, in real time: it guards
// against a server that does not answer, not a policy decision.
const requestTimeout = 5 * time.Second

// Config configures a Watcher. Zero values take the defaults above.
type Config struct {
	// Client is the etcd client; required. The caller owns it and must
	// keep it open while Run runs.
	Client *clientv3.Client
	// Prefix is the etcd prefix of the topology, DefaultPrefix when empty.
	// A missing trailing "/" is added.
	Prefix string
	// HoldOff is how long the Watcher waits for quiet after an event
	// before publishing.
	HoldOff time.Duration
	// MaxDelay bounds how long an event waits to be published while events
	// keep arriving.
	MaxDelay time.Duration
	// PageSize is the number of keys per Get when listing the prefix.
	PageSize int64
	// ProbeInterval is how often etcd's reachability is checked (a cheap
	// linearizable Get, timing out after the same interval), so that Health
	// turns disconnected within about two intervals of etcd going away
	// even when the watch is quiet. Negative disables probing. The probe
	// runs on Clock; its timeout, like the 5 s timeout of each listing
	// Get, is in real time, since it bounds network I/O.
	ProbeInterval time.Duration
	// StallInterval is how often the watch asks its etcd member for a
	// progress notification (etcd's RequestProgress). When a whole
	// interval passes with the previous request unanswered and nothing
	// else received, the member is taken as stalled and the watch is
	// reopened (on a new stream, through any member) from the last
	// revision: a change then arrives within about three intervals of a
	// member hanging. Negative disables the check; it runs on Clock. Keep
	// it well above 100 ms: etcd answers a progress request only once a
	// new watch has joined its synced watchers, which it checks every
	// 100 ms.
	StallInterval time.Duration
	// MaxBackoff bounds the delay between retries of a failed list or
	// watch. The default, 500 ms, matches ReconnectBackoff: a retry
	// should not wait longer than the connection it needs.
	MaxBackoff time.Duration
	// Clock schedules batching, retries and probes; nil is the real clock.
	Clock clockwork.Clock
	// Logger receives invalid records (Warn) and source errors; nil discards.
	Logger *slog.Logger
	// OnHealth, if set, is called with the new Health each time it changes
	// (for metrics), one call at a time, from Run's goroutines. It must not
	// block; it may call Watcher.Health.
	OnHealth func(Health)
	// Store receives the records; nil is a new topology.Builder.
	Store Store
}

// Observer receives each new topology.
type Observer interface {
	// OnTopology is called from Run's goroutine, one call at a time, with
	// revisions increasing except after etcd itself went back in time (a
	// restore). The Topology is immutable and shared: the observer may
	// keep it but must not modify it. Run waits for OnTopology to return,
	// so a slow observer delays later topologies (events are batched
	// meanwhile, never dropped).
	OnTopology(*topology.Topology)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(*topology.Topology)

// OnTopology calls f(t).
func (f ObserverFunc) OnTopology(t *topology.Topology) { f(t) }

var _ Observer = ObserverFunc(nil)

// Watcher keeps a topology in step with etcd and publishes it to an
// Observer. Create it with New and start it with Run; Health may be called
// from any goroutine.
type Watcher struct {
	cfg    Config
	obs    Observer
	cli    *clientv3.Client
	clock  clockwork.Clock
	log    *slog.Logger
	prefix string

	// Used only by Run's goroutine.
	builder Store
	rev     int64 // the revision the builder reflects
	attempt int64 // watches opened, for a stream of their own each
	batch   batcher
	retry   backoff

	relist chan struct{} // the probe asks Run for a full re-list

	healthMu   sync.Mutex // guards health
	health     Health
	onHealthMu sync.Mutex // serialises OnHealth calls

	hooks hooks
}

// hooks let tests act at points that timing would otherwise decide. All are
// called from Run's goroutine and may be nil.
type hooks struct {
	afterPage   func(page int, rev int64) // after each Get of a listing
	beforeWatch func(from int64)          // before each Watch is opened
	watchOpened func(cancel func())       // with the function that cancels the Watch just opened
	applied     func(rev int64)           // after a watch response's events are applied and the batch timer set
	progress    func()                    // after a progress notification
}

// New returns a Watcher that publishes to obs. It does not contact etcd;
// Run does.
func New(cfg Config, obs Observer) *Watcher {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if !strings.HasSuffix(cfg.Prefix, "/") {
		cfg.Prefix += "/"
	}
	if cfg.HoldOff <= 0 {
		cfg.HoldOff = DefaultHoldOff
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = DefaultProbeInterval
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.StallInterval == 0 {
		cfg.StallInterval = DefaultStallInterval
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Store == nil {
		cfg.Store = topology.NewBuilder()
	}
	return &Watcher{
		cfg:     cfg,
		obs:     obs,
		cli:     cfg.Client,
		clock:   cfg.Clock,
		log:     cfg.Logger.With("etcd_prefix", cfg.Prefix),
		prefix:  cfg.Prefix,
		builder: cfg.Store,
		batch:   batcher{clock: cfg.Clock, holdOff: cfg.HoldOff, maxDelay: cfg.MaxDelay},
		retry:   backoff{clock: cfg.Clock, min: min(minBackoff, cfg.MaxBackoff), max: cfg.MaxBackoff},
		relist:  make(chan struct{}, 1),
		health:  Health{Since: cfg.Clock.Now()},
	}
}

// errRelist ends a watch when the probe finds etcd behind the published
// revision (restored from a backup, or replaced): only a full list is right.
var errRelist = errors.New("etcd revision went back; listing again")

// Run lists the prefix, publishes the first topology, then watches and
// publishes changes until ctx is cancelled. It retries every etcd failure
// and returns only ctx.Err(), after its goroutines have stopped. Run must
// be called once.
func (w *Watcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	if w.cfg.ProbeInterval > 0 {
		wg.Go(func() { w.probeLoop(ctx) })
	}
	listed := false
	for {
		var err error
		if !listed {
			err = w.list(ctx)
			listed = err == nil
		} else {
			err = w.watch(ctx)
			if errors.Is(err, rpctypes.ErrCompacted) || errors.Is(err, errRelist) {
				w.log.Info("listing the topology again", "revision", w.rev, "reason", err)
				listed = false
				continue
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			continue
		}
		// A listing that raced a compaction, or a watch that stalled on one
		// member (the others may answer: the probe decides), does not
		// mean etcd is gone.
		if !errors.Is(err, rpctypes.ErrCompacted) && !errors.Is(err, errWatchStalled) {
			w.setDisconnected(err)
		}
		if errors.Is(err, errWatchStalled) {
			w.log.Warn("etcd member stalled; reopening the watch", "revision", w.rev, "error", err)
		} else {
			w.log.Warn("etcd source failed; keeping the last topology and retrying", "revision", w.rev, "error", err)
		}
		if !w.retry.wait(ctx) {
			return ctx.Err()
		}
	}
}

// put applies one key-value to the builder, logging an invalid record.
func (w *Watcher) put(kv *mvccpb.KeyValue) {
	key := strings.TrimPrefix(string(kv.Key), w.prefix)
	if err := w.builder.Put(key, kv.Value); err != nil {
		w.log.Warn("invalid topology record", "key", string(kv.Key), "revision", kv.ModRevision, "error", err)
	}
}

// publish builds the topology at the current revision and hands it to the
// observer.
func (w *Watcher) publish() {
	w.batch.done()
	w.obs.OnTopology(w.builder.Build(w.rev))
	w.setPublished(w.rev)
}
