package xdscache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
)

// Cache keeps one snapshot per node group, rebuilds them when the topology
// changes and answers the xDS server's watches from them. Groups are
// created on demand when a node of a new group connects, and forgotten
// after CacheOptions.GroupIdle without streams. A group whose new snapshot
// fails to build keeps its last good snapshot. Cache is safe for
// concurrent use.
type Cache struct {
	watches    watches       // serves the xDS streams, and holds every group's current resources
	linear     *linearCaches // with ServeLinear, serves the xDS streams instead (linear.go)
	translator Translator
	log        *slog.Logger
	now        func() time.Time

	// bindMu guards bound: the group of each node the xDS server's
	// streams named (see RegisterAs and Bind).
	bindMu sync.Mutex
	bound  map[*corev3.Node]string

	mu       sync.Mutex // guards topo, groups, building, streams and idle
	topo     *topology.Topology
	groups   map[string]translate.Group
	building map[string]bool // groups whose first snapshot RegisterAs is building
	applied  uint64          // OnTopology calls so far
	// beforeFirstBuild, when set (tests), runs before a new group's first
	// build, without c.mu held.
	beforeFirstBuild func()
	streams          map[string]int       // group ID -> open streams
	idle             map[string]time.Time // group ID -> when its last stream closed
	groupIdle        time.Duration
	onBuild          func(BuildStats)
	// verMu guards versions (group ID -> version of the snapshot set
	// last), which parallel publishes share.
	verMu    sync.Mutex
	versions map[string]string
	// pubMu guards published: group ID -> when each type's current version
	// was set, for convergence metrics. It is not c.mu, so that readers on
	// stream goroutines never wait for a rebuild.
	pubMu     sync.Mutex
	published map[string]map[string]published
}

type published struct {
	version string
	at      time.Time
}

// BuildStats describes one rebuild after a topology change.
type BuildStats struct {
	Revision   int64
	Groups     int
	Changed    int // groups whose snapshot changed
	Duration   time.Duration
	Translated Stats
}

// CacheOptions configure a Cache.
type CacheOptions struct {
	Logger  *slog.Logger
	Now     func() time.Time // the clock for time-based policy; time.Now when nil
	OnBuild func(BuildStats) // optional, called after each topology rebuild
	// GroupIdle is how long a group with no open stream keeps being built
	// before it is forgotten (DefaultGroupIdle when zero). Without it, every
	// locality or tenant a node ever named would be rebuilt on every change.
	GroupIdle time.Duration
	// Serve selects what Watcher answers from: ServeWatches (the zero
	// value) or, to measure go-control-plane against it, ServeLinear.
	Serve Serve
}

// DefaultGroupIdle is CacheOptions.GroupIdle's default.
const DefaultGroupIdle = 10 * time.Minute

// NewCache returns an empty cache. Nodes get no resources until the first
// topology arrives.
func NewCache(opts CacheOptions) *Cache {
	c := &Cache{
		log:       opts.Logger,
		now:       opts.Now,
		groups:    map[string]translate.Group{},
		building:  map[string]bool{},
		bound:     map[*corev3.Node]string{},
		streams:   map[string]int{},
		idle:      map[string]time.Time{},
		groupIdle: opts.GroupIdle,
		versions:  map[string]string{},
		onBuild:   opts.OnBuild,

		published: map[string]map[string]published{},
	}
	c.translator.Raw = true
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.groupIdle <= 0 {
		c.groupIdle = DefaultGroupIdle
	}
	if opts.Serve == ServeLinear {
		c.linear = newLinearCaches(c.boundGroup)
	}
	return c
}

// Watcher returns what the xDS server serves from: state-of-the-world and
// delta watches and fetches are answered by the cache itself (see
// watches), or with ServeLinear by go-control-plane's LinearCaches
// (linear.go). A request's group is the one its node was bound to.
func (c *Cache) Watcher() cache.Cache {
	if c.linear != nil {
		return c.linear
	}
	return watcher{c}
}

type watcher struct{ c *Cache }

var _ cache.Cache = watcher{}

func (w watcher) CreateWatch(req *cache.Request, sub cache.Subscription, out chan cache.Response) (func(), error) {
	id, err := w.c.groupOf(req.GetNode())
	if err != nil {
		return nil, err
	}
	return w.c.watches.watchSotW(id, req, sub, out), nil
}

func (w watcher) CreateDeltaWatch(req *cache.DeltaRequest, sub cache.Subscription, out chan cache.DeltaResponse) (func(), error) {
	id, err := w.c.groupOf(req.GetNode())
	if err != nil {
		return nil, err
	}
	return w.c.watches.watchDelta(id, req, sub, out), nil
}

func (w watcher) Fetch(_ context.Context, req *cache.Request) (cache.Response, error) {
	id, err := w.c.groupOf(req.GetNode())
	if err != nil {
		return nil, err
	}
	return w.c.watches.fetch(id, req)
}

// ErrUnboundNode is returned for a request whose node no stream
// registered: its group, and so its tenant, is unknown.
var ErrUnboundNode = errors.New("node not registered with the cache")

// groupOf returns the group ID a node was bound to.
func (c *Cache) groupOf(node *corev3.Node) (string, error) {
	c.bindMu.Lock()
	defer c.bindMu.Unlock()
	id, ok := c.bound[node]
	if !ok {
		return "", fmt.Errorf("node %q: %w", node.GetId(), ErrUnboundNode)
	}
	return id, nil
}

// Topology returns the topology in force, nil before the first one.
func (c *Cache) Topology() *topology.Topology {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.topo
}

// Register is RegisterAs with the node's own group (translate.GroupOf:
// its tenant from node metadata), which it returns.
func (c *Cache) Register(node *corev3.Node) translate.Group {
	g := translate.GroupOf(node)
	c.RegisterAs(node, g)
	return g
}

// RegisterAs makes sure a group exists and has a snapshot, counts a stream
// of it and binds the stream's node to it: requests carrying that node are
// answered from the group's resources. The xDS server calls it on every
// stream's first request (with the tenant of the stream's certificate
// under mTLS), Bind for a node a later request carries, and Release when
// the stream closes.
//
// A new group's first snapshot is built without holding the cache's lock,
// so that clients of new localities arriving together (a replica's clients
// reconnecting to this one) never hold up the updates of the groups already
// served; streams of the group that arrive meanwhile are answered when it
// is published.
func (c *Cache) RegisterAs(node *corev3.Node, g translate.Group) {
	c.Bind(node, g)
	id := g.ID()
	c.mu.Lock()
	c.streams[id]++
	delete(c.idle, id)
	_, known := c.groups[id]
	if known || c.building[id] || c.topo == nil {
		if !known && !c.building[id] {
			c.groups[id] = g // the first topology builds it
		}
		c.mu.Unlock()
		return
	}
	c.building[id] = true
	topo, now, applied := c.topo, c.now(), c.applied
	c.mu.Unlock()

	if c.beforeFirstBuild != nil {
		c.beforeFirstBuild()
	}
	c.publish(g, topo, now)

	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.building, id)
	c.groups[id] = g
	if c.applied != applied {
		// Topologies (or time phases) applied meanwhile did not build the
		// group: catch up.
		c.publish(g, c.topo, c.now())
	}
}

// Bind binds a node to a registered group.
func (c *Cache) Bind(node *corev3.Node, g translate.Group) {
	c.bindMu.Lock()
	defer c.bindMu.Unlock()
	c.bound[node] = g.ID()
}

// Release counts a stream of a group closed and unbinds the nodes it
// named. A group left without streams for CacheOptions.GroupIdle is
// forgotten at the next rebuild.
func (c *Cache) Release(groupID string, nodes ...*corev3.Node) {
	c.bindMu.Lock()
	for _, n := range nodes {
		delete(c.bound, n)
	}
	c.bindMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.streams[groupID] > 0 {
		c.streams[groupID]--
	}
	if c.streams[groupID] == 0 {
		delete(c.streams, groupID)
		c.idle[groupID] = c.now()
	}
}

// forgetIdle drops the groups idle for longer than c.groupIdle, with
// everything kept for them. c.mu must be held.
func (c *Cache) forgetIdle(now time.Time) {
	for id, since := range c.idle {
		if now.Sub(since) < c.groupIdle {
			continue
		}
		delete(c.idle, id)
		delete(c.groups, id)
		c.translator.forget(id)
		c.watches.forget(id)
		c.linear.forget(id)
		c.verMu.Lock()
		delete(c.versions, id)
		c.verMu.Unlock()
		c.pubMu.Lock()
		delete(c.published, id)
		c.pubMu.Unlock()
		c.log.Info("idle node group forgotten", "group", id, "idle", now.Sub(since))
	}
}

// OnTopology rebuilds every group's snapshot for a new topology. It
// implements topowatch.Observer.
func (c *Cache) OnTopology(t *topology.Topology) {
	start := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.topo = t
	c.applied++
	now := c.now()
	c.forgetIdle(now)
	groups := make([]translate.Group, 0, len(c.groups))
	for _, g := range c.groups {
		groups = append(groups, g)
	}
	// Groups build in parallel, one worker per CPU: a change touches every
	// group, and each group's streams are answered as soon as it is built.
	var changed atomic.Int64
	parallel(len(groups), func(i int) {
		if c.publish(groups[i], t, now) {
			changed.Add(1)
		}
	})
	c.translator.Sweep()
	stats := BuildStats{Revision: t.Revision, Groups: len(c.groups), Changed: int(changed.Load()),
		Duration: time.Since(start), Translated: c.translator.TakeStats()}
	c.log.Info("topology applied", "revision", t.Revision, "groups", stats.Groups, "changed", stats.Changed,
		"problems", len(t.Problems), "took", stats.Duration)
	if c.onBuild != nil {
		c.onBuild(stats)
	}
}

// publish builds and sets one group's snapshot for a topology; it reports
// whether the snapshot changed. publish may run for different groups at
// once, never for one group twice at once: OnTopology and RegisterAs call
// it with c.mu held, except for a group RegisterAs is building, which
// OnTopology does not build.
func (c *Cache) publish(g translate.Group, topo *topology.Topology, now time.Time) bool {
	snap, changed, err := c.translator.build(topo, g, now)
	if err != nil {
		c.log.Error("snapshot build failed; keeping the last good snapshot", "group", g.ID(), "revision", topo.Revision, "err", err)
		return false
	}
	v := snap.version()
	c.verMu.Lock()
	same := c.versions[g.ID()] == v
	c.versions[g.ID()] = v
	c.verMu.Unlock()
	if same {
		return false
	}
	c.watches.publish(g.ID(), snap, changed)
	if err := c.linear.publish(g.ID(), snap, changed); err != nil {
		c.log.Error("LinearCache update failed", "group", g.ID(), "revision", c.topo.Revision, "err", err)
	}
	at := time.Now()
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	types := c.published[g.ID()]
	if types == nil {
		types = map[string]published{}
		c.published[g.ID()] = types
	}
	for _, u := range typeURLs {
		if ver := snap.view(u).version; types[u].version != ver {
			types[u] = published{version: ver, at: at}
		}
	}
	c.log.Debug("snapshot published", "group", g.ID(), "revision", topo.Revision, "version", v)
	return true
}

// Groups returns the known node groups.
func (c *Cache) Groups() []translate.Group {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]translate.Group, 0, len(c.groups))
	for _, g := range c.groups {
		out = append(out, g)
	}
	return out
}

// PublishedAt returns when a group's snapshot started serving the given
// version of a type (wall clock), for convergence metrics.
func (c *Cache) PublishedAt(group, typeURL, version string) (time.Time, bool) {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	p, ok := c.published[group][typeURL]
	if !ok || p.version != version {
		return time.Time{}, false
	}
	return p.at, true
}
