package tabletagent

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// Agent probes one MySQL instance and keeps its tablet record in etcd.
type Agent struct {
	cfg   Config
	cli   *clientv3.Client
	probe *prober
	pub   *publisher
	log   *slog.Logger

	// Used by the probe loop only.
	mem memory
	// latest hands the probe loop's newest record to the writer; it holds
	// at most one, the newest.
	latest chan *topology.Tablet
	// Used by the writer only (and by drain, after the writer stopped).
	written  *topology.Tablet // the record in etcd, nil until written
	etcdDown bool             // the last write failed

	// primaryID is the server_id while the instance is a primary, else 0;
	// the heartbeat writer reads it.
	primaryID atomic.Uint32
	// probes counts completed steps (tests wait on it).
	probes atomic.Int64
}

// New returns an agent of the MySQL instance behind db publishing to cli.
// It validates cfg (errors wrap ErrConfig and name the field); the caller
// keeps ownership of db and cli and closes them after Run returns.
func New(cfg Config, db *sql.DB, cli *clientv3.Client) (*Agent, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger.With("tablet", cfg.Alias)
	return &Agent{
		cfg: cfg, cli: cli, log: log, latest: make(chan *topology.Tablet, 1),
		probe: &prober{db: db, timeout: cfg.QueryTimeout, schemaQ: cfg.SchemaVersionQuery, now: cfg.Clock.Now},
		pub: &publisher{cli: cli, key: cfg.Prefix + topology.TabletsPrefix + cfg.Alias, ttl: cfg.LeaseTTL,
			timeout: cfg.EtcdTimeout, log: log},
	}, nil
}

// Run probes MySQL every Interval and writes the tablet record when it
// changes, until ctx ends. Then it drains: the record goes DRAINING for
// DrainPeriod so that clients move away, and is deleted. Run returns nil
// after a clean drain, else the error of the last etcd request.
//
// Writing runs apart from probing: while etcd is unreachable the probes go
// on every interval, and the writer writes the newest record when etcd
// answers again (under a new lease if the old one expired).
func (a *Agent) Run(ctx context.Context) error {
	a.adoptServingSince(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.heartbeats(ctx) }()
	go func() { defer wg.Done(); a.writer(ctx) }()
	ticker := a.cfg.Clock.NewTicker(a.cfg.Interval)
	defer ticker.Stop()
	for {
		a.step(ctx)
		select {
		case <-ctx.Done():
			wg.Wait()
			return a.drain()
		case <-ticker.Chan():
		}
	}
}

// writer writes the newest record the probe loop offers, and retries every
// interval (put does nothing when etcd holds it under a live lease).
func (a *Agent) writer(ctx context.Context) {
	retry := a.cfg.Clock.NewTicker(a.cfg.Interval)
	defer retry.Stop()
	var cur *topology.Tablet
	for {
		select {
		case <-ctx.Done():
			return
		case cur = <-a.latest:
		case <-retry.Chan():
		}
		if cur != nil {
			a.publish(ctx, cur)
		}
	}
}

// offer hands t to the writer, replacing a record it has not taken yet.
func (a *Agent) offer(t *topology.Tablet) {
	select {
	case <-a.latest:
	default:
	}
	a.latest <- t
}

// step is one probe: derive the record and offer it to the writer.
func (a *Agent) step(ctx context.Context) {
	now := a.cfg.Clock.Now()
	st := a.probe.probe(ctx)
	primary := st.Err == nil && st.Writable && !st.HasSource
	if primary {
		term, err := a.probe.primaryTerm(ctx, st.ServerID, a.mem.sawReadOnly)
		if err != nil {
			st = Status{Err: err}
			primary = false
		} else {
			st.TermStart, a.mem.sawReadOnly = term, false
		}
	} else if st.Err == nil {
		a.mem.sawReadOnly = true
	}
	if primary {
		f, err := a.newerPrimary(ctx, &topology.Tablet{Shard: a.cfg.Shard, PrimaryTermStart: st.TermStart})
		if err != nil {
			a.log.Debug("split-brain check: etcd unreachable; keeping the last answer", "err", err)
		} else {
			a.mem.fence = f
		}
		// A fenced primary writes no heartbeat: each would be one more
		// errant transaction to reconcile when it rejoins as a replica.
		if a.mem.fence == nil {
			a.primaryID.Store(st.ServerID)
		} else {
			a.primaryID.Store(0)
		}
	} else {
		a.mem.fence = nil
		a.primaryID.Store(0)
	}
	t := derive(&a.cfg, st, &a.mem, now)
	a.logTransition(a.mem.last, t)
	a.mem.last = t
	a.offer(t)
	a.probes.Add(1)
}

// publish writes t unless etcd already holds it (lag jitter aside).
func (a *Agent) publish(ctx context.Context, t *topology.Tablet) {
	next := *t
	steadyLag(a.written, &next)
	value, err := topology.EncodeTablet(&next)
	if err != nil {
		// The configuration was validated at New: this is a bug.
		a.log.Error("tablet record does not validate; not written", "err", err)
		return
	}
	if a.written == nil || string(value) != string(a.pub.written) {
		a.log.Debug("writing the tablet record", "record", string(value))
	}
	if err := a.pub.put(ctx, value); err != nil {
		if !a.etcdDown {
			a.log.Warn("etcd unreachable; probing on, the record is written when etcd answers", "err", err)
		}
		a.etcdDown = true
		return
	}
	if a.etcdDown {
		a.log.Info("etcd reachable again; record written", "state", next.State)
	}
	a.etcdDown, a.written = false, &next
}

func (a *Agent) logTransition(prev, t *topology.Tablet) {
	if prev != nil && prev.State == t.State && prev.Type == t.Type && prev.HealthError == t.HealthError &&
		prev.PrimaryTermStart.Equal(t.PrimaryTermStart) && prev.SchemaVersion == t.SchemaVersion {
		return
	}
	attrs := []any{"type", t.Type, "state", t.State, "health_error", t.HealthError, "schema_version", t.SchemaVersion,
		"replication", t.Replication, "lag", t.ReplicationLag}
	if t.Type == topology.TypePrimary {
		attrs = append(attrs, "primary_term_start", t.PrimaryTermStart)
	}
	if a.mem.fence != nil {
		a.log.Error("SPLIT BRAIN: this instance is writable but another tablet holds a newer primary term; reporting NOT_SERVING",
			append(attrs, "other", a.mem.fence.Alias, "other_term_start", a.mem.fence.PrimaryTermStart)...)
		return
	}
	a.log.Info("tablet state", attrs...)
}

// adoptServingSince keeps the serving_since of a SERVING record left by a
// previous agent of this tablet (a restart within the lease TTL), so that a
// restart does not restart the tablet's ramp.
func (a *Agent) adoptServingSince(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, a.cfg.EtcdTimeout)
	defer cancel()
	resp, err := a.cli.Get(rctx, a.pub.key)
	if err != nil || len(resp.Kvs) == 0 {
		return
	}
	if t, err := topology.DecodeTablet(a.cfg.Alias, resp.Kvs[0].Value); err == nil && t.State == topology.StateServing {
		a.mem.servingSince = t.ServingSince
	}
}

// heartbeats writes the heartbeat row every HeartbeatInterval while the
// instance is a primary.
func (a *Agent) heartbeats(ctx context.Context) {
	t := a.cfg.Clock.NewTicker(a.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
		if id := a.primaryID.Load(); id != 0 {
			if err := a.probe.beat(ctx, id); err != nil {
				a.log.Debug("heartbeat write failed", "err", err)
			}
		}
	}
}

// drain marks the record DRAINING for DrainPeriod, then deletes it.
func (a *Agent) drain() error {
	ctx := context.Background()
	if a.written != nil {
		t := *a.written
		t.State = topology.StateDraining
		value, err := topology.EncodeTablet(&t)
		if err == nil {
			err = a.pub.put(ctx, value)
		}
		if err != nil {
			a.log.Warn("drain: could not mark the record DRAINING", "err", err)
		} else {
			a.log.Info("draining", "period", a.cfg.DrainPeriod)
			<-a.cfg.Clock.After(a.cfg.DrainPeriod)
		}
	}
	if err := a.pub.remove(ctx); err != nil {
		a.pub.close()
		return fmt.Errorf("drain: %w", err)
	}
	a.log.Info("drained; tablet record deleted")
	return nil
}
