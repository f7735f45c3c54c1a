package xdscache

import (
	"slices"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"github.com/shardmesh/shardmesh/pkg/translate"
)

// Snapshot is one version of a node group's resources, as served. It is
// immutable and safe for concurrent use.
type Snapshot struct{ s *groupSnap }

// GetVersion returns the version of a type: a hash of its content.
func (s Snapshot) GetVersion(typeURL string) string { return s.s.view(typeURL).version }

// GetVersionMap returns the version (content hash) of every resource of a
// type, by name.
func (s Snapshot) GetVersionMap(typeURL string) map[string]string {
	out := map[string]string{}
	s.s.view(typeURL).each(func(name string, e entry) { out[name] = e.hash })
	return out
}

// GetResources returns the resources of a type as typed Envoy messages, by
// name.
func (s Snapshot) GetResources(typeURL string) map[string]types.Resource {
	return s.s.view(typeURL).decoded()
}

// Resources returns every resource, by type and name.
func (s Snapshot) Resources() translate.Resources {
	out := translate.Resources{}
	for _, u := range typeURLs {
		out[u] = s.GetResources(u)
	}
	return out
}

// snapshot returns a group's current snapshot, ok false when it has none.
func (s *watches) snapshot(groupID string) (Snapshot, bool) {
	g := s.group(groupID)
	g.mu.Lock()
	defer g.mu.Unlock()
	snap := &groupSnap{}
	for _, u := range typeURLs {
		v := g.current(u)
		if v == nil {
			return Snapshot{}, false
		}
		snap.views[cache.GetResponseType(u)] = v
	}
	return Snapshot{snap}, true
}

// decoded returns a view's resources as typed Envoy messages, by name.
func (v *view) decoded() map[string]types.Resource {
	out := map[string]types.Resource{}
	v.each(func(name string, e entry) {
		res := e.served(v.raw)
		if m, err := Decode(v.typeURL(), res); err == nil {
			res = m
		}
		out[name] = res
	})
	return out
}

// typeURL is the view's type.
func (v *view) typeURL() string {
	return typeURLs[slices.IndexFunc(typeURLs, func(u string) bool { return cache.GetResponseType(u) == v.typ })]
}

// fetch answers a REST (fetch) request from a group's current resources:
// every requested name it has, or every resource for a request naming
// none. A request that already holds the current version gets
// SkipFetchError, as go-control-plane's caches answer.
func (s *watches) fetch(groupID string, req *cache.Request) (cache.Response, error) {
	g := s.group(groupID)
	g.mu.Lock()
	defer g.mu.Unlock()
	cur := g.current(req.GetTypeUrl())
	if cur == nil || cur.version == req.GetVersionInfo() {
		return nil, &types.SkipFetchError{}
	}
	resp := &sotwResponse{req: req, version: cur.version, returned: map[string]string{}}
	add := func(name string, e entry) {
		resp.resources = append(resp.resources, e.served(cur.raw))
		resp.returned[name] = cur.version
	}
	if names := req.GetResourceNames(); len(names) > 0 {
		for _, n := range names {
			if e, ok := cur.get(n); ok {
				add(n, e)
			}
		}
	} else {
		cur.each(add)
	}
	return resp, nil
}

// Snapshot returns what a group's streams are served now; ok is false for
// a group with no snapshot. Debug views and tests read it: the watches
// answer from the same store.
func (c *Cache) Snapshot(groupID string) (Snapshot, bool) {
	return c.watches.snapshot(groupID)
}

// Render returns the resources a node of a group would be served: its
// group's snapshot when the group is known, else a fresh translation of
// the topology in force (what the group would get once a node of it
// connected). ok is false before the first topology.
func (c *Cache) Render(g translate.Group) (translate.Resources, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.topo == nil {
		return nil, false, nil
	}
	if _, known := c.groups[g.ID()]; known {
		if snap, ok := c.watches.snapshot(g.ID()); ok {
			return snap.Resources(), true, nil
		}
	}
	r, err := translate.Translate(c.topo, g, c.now())
	return r, err == nil, err
}
