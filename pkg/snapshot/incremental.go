package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// part is one keyspace's resources for one node group, with the inputs
// they were built from. A group's snapshot is the concatenation of its
// parts, so a change to one keyspace rebuilds one part, and the other
// parts are reused without even a memo lookup.
type part struct {
	ks     *topology.Keyspace
	plan   string            // routePlan.key()
	shards []*topology.Shard // pointer identity: unchanged shards keep theirs
	phases []string          // weights.RampPhase per shard
	set    resourceSet
	digest [types.UnknownType]string // per type: hash of the part's names and versions
}

func (p *part) matches(ks *topology.Keyspace, plan string, shards []*topology.Shard, phases []string) bool {
	return p.ks == ks && p.plan == plan && slices.Equal(p.shards, shards) && slices.Equal(p.phases, phases)
}

// seal computes the part's per-type digests.
func (p *part) seal() {
	for _, u := range typeURLs {
		i := cache.GetResponseType(u)
		p.digest[i] = versionOf(p.set.versions[u])
	}
}

// groupState is what a Translator keeps per node group between builds.
type groupState struct {
	parts    map[string]*part // by keyspace
	list     []*part          // the parts of prev, in order
	prev     *cache.Snapshot
	complete bool // prev was built from list (false after a failed build)
}

// changes are the names of the resources, by type URL, that were added,
// changed or removed since a group's previous snapshot. A type whose
// version changed but that has no entry changed in ways not tracked (the
// first snapshot, or one after a failed build): every name may differ.
type changes map[string][]string

// buildParts returns the parts of a group's snapshot, reusing those whose
// inputs did not change.
func (t *Translator) buildParts(topo *topology.Topology, g NodeGroup, now time.Time, st *groupState) ([]*part, error) {
	next := map[string]*part{}
	var parts []*part
	if g.Kind == weights.KindEnvoy {
		p := st.parts[""]
		if p == nil {
			p = &part{}
			l, err := t.listeners.get(HTTPListenerName, func() types.Resource { return makeHTTPListener() })
			if err != nil {
				return nil, err
			}
			p.set.add(typeListener, HTTPListenerName, l)
			p.seal()
		}
		next[""] = p
		parts = append(parts, p)
	}
	for _, name := range routedKeyspaces(topo) {
		ks, ok := topo.Keyspaces[name]
		if !ok {
			ks = topology.DefaultKeyspace(name) // only a routing rule names it
		}
		shards := topo.ShardsOf(name)
		if !Visible(ks, g) || (len(shards) == 0 && !redirected(topo, name)) {
			continue
		}
		plan, key := t.plan(topo, ks, shards, now)
		phases := make([]string, len(shards))
		for i, s := range shards {
			phases[i] = t.rampPhase(topo, ks, s, now)
		}
		p := st.parts[name]
		if p == nil || !p.matches(ks, key, shards, phases) {
			p = &part{ks: ks, plan: key, shards: shards, phases: phases}
			if err := t.keyspace(&p.set, topo, ks, shards, plan, g, now); err != nil {
				return nil, err
			}
			p.seal()
		}
		next[name] = p
		parts = append(parts, p)
	}
	st.parts = next
	return parts, nil
}

// assemble joins parts into a snapshot. A type whose version did not change
// since the group's previous snapshot reuses that snapshot's resources; one
// that changed patches a copy of the previous maps with the parts that
// changed (parts are compared by pointer), and reports the names it touched.
//
// With raw, resources are served pre-marshalled (see entry.raw), so that
// go-control-plane copies bytes instead of marshalling every resource for
// every response.
func assemble(parts []*part, st *groupState, raw bool) (*cache.Snapshot, changes) {
	prev := st.prev
	snap := &cache.Snapshot{VersionMap: map[string]map[string]string{}}
	changed := changes{}
	for _, u := range typeURLs {
		i := cache.GetResponseType(u)
		h := sha256.New()
		n := 0
		for _, p := range parts {
			h.Write([]byte(p.digest[i]))
			n += len(p.set.items[i])
		}
		version := hex.EncodeToString(h.Sum(nil)[:8])
		if n == 0 {
			version = versionOf(nil)
		}
		if prev != nil && prev.Resources[i].Version == version {
			snap.Resources[i] = prev.Resources[i]
			snap.VersionMap[u] = prev.VersionMap[u]
			continue
		}
		if prev == nil || !st.complete {
			items := make(map[string]types.ResourceWithTTL, n)
			versions := make(map[string]string, n)
			for _, p := range parts {
				for _, r := range p.set.items[i] {
					items[r.name] = types.ResourceWithTTL{Resource: r.e.served(raw)}
					versions[r.name] = r.e.hash
				}
			}
			snap.Resources[i] = cache.Resources{Version: version, Items: items}
			snap.VersionMap[u] = versions
			continue
		}
		items, versions, names := patch(prev.Resources[i].Items, prev.VersionMap[u], st.list, parts, i, raw)
		snap.Resources[i] = cache.Resources{Version: version, Items: items}
		snap.VersionMap[u] = versions
		changed[u] = names
	}
	st.prev, st.list, st.complete = snap, parts, true
	return snap, changed
}

// patch returns copies of a type's previous items and versions with the
// parts that left (in old, not in cur) taken out and those that came put
// in, and the names whose content changed.
func patch(items map[string]types.ResourceWithTTL, versions map[string]string, old, cur []*part, i types.ResponseType, raw bool) (map[string]types.ResourceWithTTL, map[string]string, []string) {
	prevVersions := versions
	items, versions = maps.Clone(items), maps.Clone(versions)
	kept := make(map[*part]bool, len(cur))
	for _, p := range cur {
		kept[p] = true
	}
	gone := map[string]bool{}
	for _, p := range old {
		if kept[p] {
			delete(kept, p) // in both: untouched
			continue
		}
		for _, r := range p.set.items[i] {
			delete(items, r.name)
			delete(versions, r.name)
			gone[r.name] = true
		}
	}
	var names []string
	for _, p := range cur {
		if !kept[p] {
			continue
		}
		for _, r := range p.set.items[i] {
			items[r.name] = types.ResourceWithTTL{Resource: r.e.served(raw)}
			versions[r.name] = r.e.hash
			delete(gone, r.name)
			if prevVersions[r.name] != r.e.hash {
				names = append(names, r.name)
			}
		}
	}
	for n := range gone {
		names = append(names, n)
	}
	return items, versions, names
}
