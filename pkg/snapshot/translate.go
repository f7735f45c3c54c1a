package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/shardmesh/shardmesh/pkg/clients"
	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

type clusterKey struct {
	keyspace *topology.Keyspace
	name     string
}

type assignmentKey struct {
	keyspace *topology.Keyspace
	shard    *topology.Shard
	class    weights.Class
	locality weights.Locality
	kind     weights.ClientKind
	ramp     string // weights.RampPhase: the assignment changes as ramps step
	mysql    bool   // addressed on the tablets' MySQL port
}

type routeKey struct {
	keyspace *topology.Keyspace
	plan     string // routePlan.key(): shards, redirects and their weights
	encoding clients.Encoding
}

// Translator turns a topology into per-group snapshots, memoizing every
// resource so that only what changed is translated again. It is safe for
// concurrent use, and different groups build in parallel: each group's
// state has its own lock, each memo its own.
type Translator struct {
	// Raw makes Build serve pre-marshalled resources (for the xDS
	// server): their bytes are the resources' deterministic encoding, but
	// they are not typed Envoy messages. Use Decode to read one.
	Raw bool

	mu          sync.Mutex // guards groups and generation
	groups      map[string]*groupState
	generation  int
	clusters    memo[clusterKey]
	assignments memo[assignmentKey]
	routes      memo[routeKey]
	listeners   memo[string]
	scopes      memo[string]
	// gen holds what every group built for one topology at one time
	// shares: see rampPhase and plan. genMu guards it.
	genMu sync.Mutex
	gen   struct {
		topo   *topology.Topology
		now    time.Time
		phases map[*topology.Shard]string
		byKS   map[string][]string  // keyspace -> phases of its shards, in order
		plans  map[string]keyedPlan // by keyspace
	}
}

type keyedPlan struct {
	plan routePlan
	key  string
}

// Stats counts resources translated (not served from the memo) since the
// last call; tests use it to prove a change re-translates only its shard.
// Listeners include Envoy's scoped route configurations.
type Stats struct{ Clusters, Assignments, Routes, Listeners int }

// TakeStats returns and resets the translation counters.
func (t *Translator) TakeStats() Stats {
	return Stats{t.clusters.take(), t.assignments.take(), t.routes.take(), t.listeners.take() + t.scopes.take()}
}

// sweepEvery is how many generations pass between memo sweeps. Keyspaces
// that did not change are reused whole without touching the memo, so a
// sweep every generation would forget their resources; sweeping now and
// then still bounds the memo to what recent topologies used.
const sweepEvery = 64

// Sweep ends a generation; every sweepEvery generations, resources not used
// since the previous sweep are forgotten. Call it after building every
// group for a new topology.
func (t *Translator) Sweep() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.generation++; t.generation%sweepEvery != 0 {
		return
	}
	t.clusters.sweep()
	t.assignments.sweep()
	t.routes.sweep()
	t.listeners.sweep()
	t.scopes.sweep()
}

// Visible reports whether a group may see a keyspace: keyspaces without a
// tenant are shared, the others are served only to their own tenant.
func Visible(ks *topology.Keyspace, g NodeGroup) bool {
	return ks.Tenant == "" || ks.Tenant == g.Tenant
}

// Build returns the snapshot of a group. The snapshot and its resources are
// shared with the memo, with other groups and with the group's next
// snapshots: callers must not modify them.
func (t *Translator) Build(topo *topology.Topology, g NodeGroup, now time.Time) (*cache.Snapshot, error) {
	snap, _, err := t.build(topo, g, now)
	if err != nil {
		return nil, err
	}
	return snap.snapshot(), nil
}

// build is Build that also returns what changed since the group's
// previous snapshot.
func (t *Translator) build(topo *topology.Topology, g NodeGroup, now time.Time) (*groupSnap, changes, error) {
	st := t.group(g)
	st.mu.Lock()
	defer st.mu.Unlock()
	parts, err := t.buildParts(topo, g, now, st)
	if err != nil {
		st.parts, st.complete = nil, false // rebuild everything next time
		return nil, nil, err
	}
	snap, changed := assemble(parts, st, t.Raw)
	return snap, changed, nil
}

// group returns a group's state, creating it.
func (t *Translator) group(g NodeGroup) *groupState {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.groups == nil {
		t.groups = map[string]*groupState{}
		for _, lean := range []*bool{&t.clusters.lean, &t.assignments.lean, &t.routes.lean, &t.listeners.lean, &t.scopes.lean} {
			*lean = t.Raw
		}
	}
	st := t.groups[g.ID()]
	if st == nil {
		st = &groupState{}
		t.groups[g.ID()] = st
	}
	return st
}

// forget drops what the translator keeps for a group.
func (t *Translator) forget(groupID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.groups, groupID)
}

// startGeneration resets the per-generation memos when the topology or the
// time differs from the last build's. t.genMu must be held.
func (t *Translator) startGeneration(topo *topology.Topology, now time.Time) {
	if t.gen.topo != topo || !t.gen.now.Equal(now) {
		t.gen.topo, t.gen.now = topo, now
		t.gen.phases, t.gen.byKS, t.gen.plans = map[*topology.Shard]string{}, map[string][]string{}, map[string]keyedPlan{}
	}
}

// rampPhase is weights.RampPhase, computed once per shard for all the
// groups built for one topology at one time.
func (t *Translator) rampPhase(topo *topology.Topology, ks *topology.Keyspace, s *topology.Shard, now time.Time) string {
	t.genMu.Lock()
	defer t.genMu.Unlock()
	t.startGeneration(topo, now)
	p, ok := t.gen.phases[s]
	if !ok {
		p = weights.RampPhase(topo, ks, s, now)
		t.gen.phases[s] = p
	}
	return p
}

// shardPhases returns the ramp phases of a keyspace's shards, in order,
// computed once for all the groups built for one topology at one time. The
// slice is shared: callers must not modify it.
func (t *Translator) shardPhases(topo *topology.Topology, ks *topology.Keyspace, shards []*topology.Shard, now time.Time) []string {
	t.genMu.Lock()
	defer t.genMu.Unlock()
	t.startGeneration(topo, now)
	if p, ok := t.gen.byKS[ks.Name]; ok {
		return p
	}
	p := make([]string, len(shards))
	for i, s := range shards {
		p[i] = weights.RampPhase(topo, ks, s, now)
		t.gen.phases[s] = p[i]
	}
	t.gen.byKS[ks.Name] = p
	return p
}

// plan is planRoutes with its key, computed once per keyspace for all the
// groups built for one topology at one time.
func (t *Translator) plan(topo *topology.Topology, ks *topology.Keyspace, shards []*topology.Shard, now time.Time) (routePlan, string) {
	t.genMu.Lock()
	defer t.genMu.Unlock()
	t.startGeneration(topo, now)
	p, ok := t.gen.plans[ks.Name]
	if !ok {
		p.plan = planRoutes(topo, ks, shards, now)
		p.key = p.plan.key()
		t.gen.plans[ks.Name] = p
	}
	return p.plan, p.key
}

func (t *Translator) keyspace(set *resourceSet, topo *topology.Topology, ks *topology.Keyspace, shards []*topology.Shard, plan routePlan, g NodeGroup, now time.Time) error {
	n := len(shards) * len(weights.Classes)
	if ks.MySQLPortBase != 0 && g.Kind == weights.KindEnvoy {
		n *= 2 // and a MySQL listener, cluster and assignment per shard and class
	}
	for _, u := range []string{typeCluster, typeEndpoint} {
		set.items[cache.GetResponseType(u)] = make([]named, 0, n)
	}
	if g.Kind == weights.KindGRPC {
		l, err := t.listeners.get(ks.Name, func() types.Resource { return makeAPIListener(ks.Name) })
		if err != nil {
			return err
		}
		set.add(resourcev3.ListenerType, ks.Name, l)
	} else {
		sc, err := t.scopes.get(ks.Name, func() types.Resource { return makeScope(ks.Name) })
		if err != nil {
			return err
		}
		set.add(resourcev3.ScopedRouteType, ks.Name, sc)
	}
	r, err := t.routes.get(routeKey{ks, plan.key(), g.Encoding}, func() types.Resource {
		return makeRouteConfig(ks, plan, g.Encoding)
	})
	if err != nil {
		return err
	}
	set.add(resourcev3.RouteType, ks.Name, r)
	for _, s := range shards {
		for _, c := range weights.Classes {
			name := ClusterName(ks.Name, s.Name, c)
			cl, err := t.clusters.get(clusterKey{ks, name}, func() types.Resource { return makeCluster(name, ks, c) })
			if err != nil {
				return err
			}
			set.add(resourcev3.ClusterType, name, cl)
			req := weights.Request{Topology: topo, Shard: s, Class: c, Client: g.Locality(), Kind: g.Kind, Now: now}
			key := assignmentKey{ks, s, c, g.Locality(), g.Kind, t.rampPhase(topo, ks, s, now), false}
			a, err := t.assignments.get(key, func() types.Resource {
				return makeAssignment(name, weights.Assign(req))
			})
			if err != nil {
				return err
			}
			set.add(resourcev3.EndpointType, name, a)
		}
	}
	return t.mysqlResources(set, topo, ks, shards, plan, g, now)
}

// resourceSet collects a group's resources by type.
type resourceSet struct {
	items [types.UnknownType][]named
}

// named is a resource with its name: the form served (pre-marshalled)
// carries no name go-control-plane could read.
type named struct {
	name string
	e    entry
}

const (
	typeListener = resourcev3.ListenerType
	typeCluster  = resourcev3.ClusterType
	typeEndpoint = resourcev3.EndpointType
)

var typeURLs = []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType, resourcev3.ScopedRouteType}

func (s *resourceSet) add(typeURL, name string, e entry) {
	i := cache.GetResponseType(typeURL)
	s.items[i] = append(s.items[i], named{name, e})
}

// digest hashes resources' names and content hashes, in order: a part's
// resources come in an order fixed by the topology (keyspaces, shards and
// classes sorted), so replicas reading the same revision agree.
func digest(items []named) string {
	h := sha256.New()
	for _, r := range items {
		h.Write([]byte(r.name))
		h.Write([]byte{'='})
		h.Write([]byte(r.e.hash))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// routedKeyspaces is every keyspace with a policy or tablets, plus the
// sources of routing rules, which may have neither once their data moved.
func routedKeyspaces(topo *topology.Topology) []string {
	names := topo.KeyspaceNames()
	for _, r := range topo.Rules {
		if !slices.Contains(names, r.FromKeyspace) {
			names = append(names, r.FromKeyspace)
		}
	}
	slices.Sort(names)
	return names
}

// redirected reports whether any class of the keyspace is routed elsewhere.
func redirected(topo *topology.Topology, keyspace string) bool {
	for _, r := range topo.Rules {
		if r.FromKeyspace == keyspace {
			return true
		}
	}
	for _, s := range topo.Shifts {
		if s.Keyspace == keyspace {
			return true
		}
	}
	return false
}
