package xdscache

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// Translator turns a topology into per-group snapshots, memoizing every
// resource so that only what changed is translated again. It is safe for
// concurrent use, and different groups build in parallel: each group's
// state has its own lock, each memo its own.
type Translator struct {
	// Raw makes Build serve pre-marshalled resources (for the xDS
	// server): their bytes are the resources' deterministic encoding, but
	// they are not typed Envoy messages. Use Decode to read one.
	Raw bool

	mu         sync.Mutex // guards groups and generation
	groups     map[string]*groupState
	generation int
	memos      [types.UnknownType]memo // by go-control-plane's response type
	// gen holds what every group built for one topology at one time
	// shares: each keyspace's inputs. genMu guards it and resolver, which
	// reuses the inputs of shards that did not change.
	genMu    sync.Mutex
	resolver weights.Resolver
	gen      struct {
		topo   *topology.Topology
		now    time.Time
		inputs map[string]*translate.KeyspaceInputs // by keyspace
	}
}

// Stats counts resources translated (not served from the memo) since the
// last call; tests use it to prove a change re-translates only its shard.
// Listeners include Envoy's scoped route configurations.
type Stats struct{ Clusters, Assignments, Routes, Listeners int }

// TakeStats returns and resets the translation counters.
func (t *Translator) TakeStats() Stats {
	return Stats{t.memo(typeCluster).take(), t.memo(typeEndpoint).take(), t.memo(typeRoute).take(),
		t.memo(typeListener).take() + t.memo(typeScope).take()}
}

// memo returns the memo of a type.
func (t *Translator) memo(typeURL string) *memo { return &t.memos[cache.GetResponseType(typeURL)] }

// sweepEvery is how many generations pass between memo sweeps. Keyspaces
// that did not change are reused whole without touching the memo, so a
// sweep every generation would forget their resources; sweeping now and
// then still bounds the memo to what recent topologies used.
const sweepEvery = 64

// Sweep ends a generation: shard environments not resolved since the
// previous Sweep are forgotten, and every sweepEvery generations, resources
// not used since the previous memo sweep. Call it after building every
// group for a new topology.
func (t *Translator) Sweep() {
	t.genMu.Lock()
	t.resolver.Sweep()
	t.genMu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.generation++; t.generation%sweepEvery != 0 {
		return
	}
	for i := range t.memos {
		t.memos[i].sweep()
	}
}

// Build returns the snapshot of a group. The snapshot and its resources are
// shared with the memo, with other groups and with the group's next
// snapshots: callers must not modify them.
func (t *Translator) Build(topo *topology.Topology, g translate.Group, now time.Time) (Snapshot, error) {
	snap, _, err := t.build(topo, g, now)
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{snap}, nil
}

// build is Build that also returns what changed since the group's
// previous snapshot.
func (t *Translator) build(topo *topology.Topology, g translate.Group, now time.Time) (*groupSnap, changes, error) {
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
func (t *Translator) group(g translate.Group) *groupState {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.groups == nil {
		t.groups = map[string]*groupState{}
		for i := range t.memos {
			t.memos[i].lean = t.Raw
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

// inputsOf returns a keyspace's inputs at now, resolved once for all the
// groups built for one topology at one time. The result is shared: callers
// must not modify it.
func (t *Translator) inputsOf(topo *topology.Topology, r translate.Routed, now time.Time) *translate.KeyspaceInputs {
	t.genMu.Lock()
	defer t.genMu.Unlock()
	if t.gen.topo != topo || !t.gen.now.Equal(now) {
		// Not a resolver generation: groups registered at once, each at
		// its own time, alternate here, and sweeping the resolver at each
		// turn would give the shards one resolved between two turns new
		// environments, so new memo keys, and the next topology would be
		// translated again in full. Sweep ends the resolver's generation.
		t.gen.topo, t.gen.now = topo, now
		t.gen.inputs = map[string]*translate.KeyspaceInputs{}
	}
	in, ok := t.gen.inputs[r.Keyspace.Name]
	if !ok {
		in = translate.ResolveWith(&t.resolver, topo, r.Keyspace, r.Shards, now)
		t.gen.inputs[r.Keyspace.Name] = in
	}
	return in
}

// add builds items through the memos into a set.
func (t *Translator) add(set *resourceSet, items []translate.Item) error {
	for _, it := range items {
		e, err := t.memo(it.TypeURL).get(it)
		if err != nil {
			return err
		}
		set.add(it.TypeURL, it.Name, e)
	}
	return nil
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
	typeRoute    = resourcev3.RouteType
	typeScope    = resourcev3.ScopedRouteType
)

// typeURLs are the types served.
var typeURLs = translate.TypeURLs

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
