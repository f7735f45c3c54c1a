package xdscache

import (
	"context"
	"fmt"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// This file is a measurement aid, not a serving path for production: it
// lets the xDS server answer from go-control-plane's LinearCaches instead
// of watches (sotw.go, delta.go), so that both can be compared on the
// same workload (BenchmarkWatchAnswering, cmd/xds-bench -serve linear).
// The figures and the decision are in docs/performance.md, "Our watches
// against go-control-plane's LinearCache".

// Serve selects what a Cache's Watcher answers the xDS server's watches
// from.
type Serve int

const (
	// ServeWatches answers from the cache's own watches (the default).
	ServeWatches Serve = iota
	// ServeLinear answers from one go-control-plane LinearCache per node
	// group and type behind a MuxCache, fed each publish's changed names.
	// It is for benchmarks only.
	ServeLinear
)

// linearCaches feeds go-control-plane's LinearCaches from the cache's
// publishes: one LinearCache per group and type, routed by a MuxCache.
// It is safe for concurrent use: publishes of different groups run in
// parallel; publishes of one group must not.
type linearCaches struct {
	mu       sync.RWMutex // guards mux.Caches and versions
	mux      cache.MuxCache
	versions map[string]string // linearKey -> the type's version last published
}

var _ cache.Cache = (*linearCaches)(nil)

func linearKey(group, typeURL string) string { return group + " " + typeURL }

// newLinearCaches returns empty LinearCaches; groupOf names the group a
// request's node is answered from ("" when none: the request fails).
func newLinearCaches(groupOf func(*corev3.Node) string) *linearCaches {
	return &linearCaches{
		mux: cache.MuxCache{
			Classify: func(r *cache.Request) string {
				return linearKey(groupOf(r.GetNode()), r.GetTypeUrl())
			},
			ClassifyDelta: func(r *cache.DeltaRequest) string {
				return linearKey(groupOf(r.GetNode()), r.GetTypeUrl())
			},
			Caches: map[string]cache.Cache{},
		},
		versions: map[string]string{},
	}
}

// CreateWatch implements cache.Cache through the MuxCache.
func (l *linearCaches) CreateWatch(req *cache.Request, sub cache.Subscription, out chan cache.Response) (func(), error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.mux.CreateWatch(req, sub, out)
}

// CreateDeltaWatch implements cache.Cache through the MuxCache.
func (l *linearCaches) CreateDeltaWatch(req *cache.DeltaRequest, sub cache.Subscription, out chan cache.DeltaResponse) (func(), error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.mux.CreateDeltaWatch(req, sub, out)
}

// Fetch implements cache.Cache through the MuxCache.
func (l *linearCaches) Fetch(ctx context.Context, req *cache.Request) (cache.Response, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.mux.Fetch(ctx, req)
}

// typeCache returns the LinearCache of a group and type if the type's
// version moved from the one last published (creating it on first use),
// or nil when the version is the same.
func (l *linearCaches) typeCache(key, typeURL, version string) *cache.LinearCache {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.versions[key] == version {
		return nil
	}
	l.versions[key] = version
	c, ok := l.mux.Caches[key].(*cache.LinearCache)
	if !ok {
		c = cache.NewLinearCache(typeURL)
		l.mux.Caches[key] = c
	}
	return c
}

// boundGroup is groupOf for a MuxCache, which cannot fail: "" for a node
// not bound, for which it finds no cache and fails the request.
func (c *Cache) boundGroup(n *corev3.Node) string {
	id, _ := c.groupOf(n)
	return id
}

// publish is watches.publish for LinearCaches: a type whose version moved
// gets UpdateResources with only the changed names, or SetResources with
// every resource when what changed is not known (the first snapshot).
// Nil LinearCaches (ServeWatches) do nothing.
func (l *linearCaches) publish(group string, snap *groupSnap, changed changes) error {
	if l == nil {
		return nil
	}
	for _, u := range typeURLs {
		v := snap.view(u)
		c := l.typeCache(linearKey(group, u), u, v.version)
		if c == nil {
			continue
		}
		names, known := changed[u]
		if !known {
			all := map[string]types.Resource{}
			v.each(func(n string, e entry) { all[n] = e.served(v.raw) })
			c.SetResources(all)
			continue
		}
		update := make(map[string]types.Resource, len(names))
		var deleted []string
		for _, n := range names {
			if e, ok := v.get(n); ok {
				update[n] = e.served(v.raw)
			} else {
				deleted = append(deleted, n)
			}
		}
		if err := c.UpdateResources(update, deleted); err != nil {
			return fmt.Errorf("group %s type %s: %w", group, u, err)
		}
	}
	return nil
}

// forget drops a group's LinearCaches; nil LinearCaches do nothing.
func (l *linearCaches) forget(group string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, u := range typeURLs {
		delete(l.mux.Caches, linearKey(group, u))
		delete(l.versions, linearKey(group, u))
	}
}
