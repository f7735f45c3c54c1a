package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
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
	parts map[string]*part // by keyspace
	prev  *cache.Snapshot
}

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
		plan := planRoutes(topo, ks, shards, now)
		key := plan.key()
		phases := make([]string, len(shards))
		for i, s := range shards {
			phases[i] = weights.RampPhase(topo, ks, s, now)
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
// since the group's previous snapshot reuses that snapshot's resources.
//
// With raw, resources are served pre-marshalled (see entry.raw), so that
// go-control-plane copies bytes instead of marshalling every resource for
// every response.
func assemble(parts []*part, prev *cache.Snapshot, raw bool) *cache.Snapshot {
	snap := &cache.Snapshot{VersionMap: map[string]map[string]string{}}
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
		items := make(map[string]types.ResourceWithTTL, n)
		versions := make(map[string]string, n)
		for _, p := range parts {
			for _, r := range p.set.items[i] {
				res := r.e.res
				if raw {
					res = r.e.raw
				}
				items[r.name] = types.ResourceWithTTL{Resource: res}
				versions[r.name] = r.e.hash
			}
		}
		snap.Resources[i] = cache.Resources{Version: version, Items: items}
		snap.VersionMap[u] = versions
	}
	return snap
}
