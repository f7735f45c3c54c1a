package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

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
}

type routeKey struct {
	keyspace *topology.Keyspace
	plan     string // routePlan.key(): shards, redirects and their weights
}

// Translator turns a topology into per-group snapshots, memoizing every
// resource so that only what changed is translated again. It is safe for
// concurrent use.
type Translator struct {
	mu          sync.Mutex // guards the memos
	clusters    memo[clusterKey]
	assignments memo[assignmentKey]
	routes      memo[routeKey]
	listeners   memo[string]
	scopes      memo[string]
}

// Stats counts resources translated (not served from the memo) since the
// last call; tests use it to prove a change re-translates only its shard.
// Listeners include Envoy's scoped route configurations.
type Stats struct{ Clusters, Assignments, Routes, Listeners int }

// TakeStats returns and resets the translation counters.
func (t *Translator) TakeStats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := Stats{t.clusters.built, t.assignments.built, t.routes.built, t.listeners.built + t.scopes.built}
	t.clusters.built, t.assignments.built, t.routes.built, t.listeners.built, t.scopes.built = 0, 0, 0, 0, 0
	return s
}

// Sweep ends a generation: resources not used since the previous Sweep are
// forgotten. Call it after building every group for a new topology.
func (t *Translator) Sweep() {
	t.mu.Lock()
	defer t.mu.Unlock()
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
// shared with the memo and with other groups: callers must not modify them.
func (t *Translator) Build(topo *topology.Topology, g NodeGroup, now time.Time) (*cache.Snapshot, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var set resourceSet
	if g.Kind == weights.KindEnvoy {
		l, err := t.listeners.get(HTTPListenerName, func() types.Resource { return makeHTTPListener() })
		if err != nil {
			return nil, err
		}
		set.add(resourcev3.ListenerType, HTTPListenerName, l)
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
		if err := t.keyspace(&set, topo, ks, shards, g, now); err != nil {
			return nil, fmt.Errorf("keyspace %s: %w", name, err)
		}
	}
	return set.snapshot(), nil
}

func (t *Translator) keyspace(set *resourceSet, topo *topology.Topology, ks *topology.Keyspace, shards []*topology.Shard, g NodeGroup, now time.Time) error {
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
	plan := planRoutes(topo, ks, shards, now)
	r, err := t.routes.get(routeKey{ks, plan.key()}, func() types.Resource {
		return makeRouteConfig(ks, plan)
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
			key := assignmentKey{ks, s, c, g.Locality(), g.Kind, weights.RampPhase(topo, ks, s, now)}
			a, err := t.assignments.get(key, func() types.Resource {
				return makeAssignment(name, weights.Assign(req))
			})
			if err != nil {
				return err
			}
			set.add(resourcev3.EndpointType, name, a)
		}
	}
	return nil
}

// resourceSet collects a group's resources by type.
type resourceSet struct {
	items    [types.UnknownType][]types.Resource
	versions map[string]map[string]string // type URL -> name -> hash
}

var typeURLs = []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType, resourcev3.ScopedRouteType}

func (s *resourceSet) add(typeURL, name string, e entry) {
	if s.versions == nil {
		s.versions = map[string]map[string]string{}
		for _, u := range typeURLs {
			s.versions[u] = map[string]string{}
		}
	}
	i := cache.GetResponseType(typeURL)
	s.items[i] = append(s.items[i], e.res)
	s.versions[typeURL][name] = e.hash
}

// snapshot assembles the go-control-plane snapshot. Each type's version is
// a hash of its resources' names and hashes, and the per-resource version
// map that delta xDS needs is filled from the memo's hashes instead of
// marshalling every resource again.
func (s *resourceSet) snapshot() *cache.Snapshot {
	snap := &cache.Snapshot{VersionMap: map[string]map[string]string{}}
	for _, u := range typeURLs {
		versions := s.versions[u]
		if versions == nil {
			versions = map[string]string{}
		}
		i := cache.GetResponseType(u)
		snap.Resources[i] = cache.NewResources(versionOf(versions), s.items[i])
		snap.VersionMap[u] = versions
	}
	return snap
}

func versionOf(versions map[string]string) string {
	names := make([]string, 0, len(versions))
	for n := range versions {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s=%s\n", n, versions[n])
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
