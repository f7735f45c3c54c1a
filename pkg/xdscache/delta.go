package xdscache

import (
	"context"
	"fmt"
	"maps"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// deltaWatch is one delta stream's open request for one type. What the
// client holds is the subscription's returned resources (name -> hash),
// which the server records from each response's next version map.
type deltaWatch struct {
	req     *cache.DeltaRequest
	sub     cache.Subscription
	out     chan cache.DeltaResponse
	typeURL string
}

// watchDelta opens a watch for a delta stream's request, answering it at
// once when the client lacks something or holds something stale or gone.
func (s *watches) watchDelta(groupID string, req *cache.DeltaRequest, sub cache.Subscription, out chan cache.DeltaResponse) func() {
	g := s.group(groupID)
	g.mu.Lock()
	defer g.mu.Unlock()
	w := &deltaWatch{req: req, sub: sub, out: out, typeURL: req.GetTypeUrl()}
	if cur := g.current(w.typeURL); cur != nil && w.answer(cur, nil, req.GetResponseNonce() == "") {
		return func() {}
	}
	g.delta[w] = struct{}{}
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(g.delta, w)
	}
}

// answer sends the client what differs between what it holds and cur, if
// anything; it reports whether it sent a response. With changed known,
// only those names are compared. A wildcard stream's first request is
// answered even when empty, as Envoy needs to finish initializing.
func (w *deltaWatch) answer(cur *view, changed changes, first bool) bool {
	returned := w.sub.ReturnedResources()
	wildcard := w.sub.IsWildcard()
	names, known := changed[w.typeURL]
	if !known {
		names = w.candidates(cur, returned)
	}
	var send, removed []string
	for _, n := range names {
		if !wildcard && !w.subscribed(n) {
			continue
		}
		e, ok := cur.get(n)
		h := e.hash
		prev, had := returned[n]
		switch {
		case ok && prev != h:
			send = append(send, n)
		case !ok && had:
			removed = append(removed, n)
		}
	}
	if len(send) == 0 && len(removed) == 0 && !(wildcard && first) {
		return false
	}
	next := make(map[string]string, len(returned)+len(send))
	for n, v := range returned {
		if _, ok := cur.get(n); ok && (wildcard || w.subscribed(n)) {
			next[n] = v
		}
	}
	resp := &deltaResponse{req: w.req, version: cur.version, next: next, removed: removed}
	for _, n := range send {
		e, _ := cur.get(n)
		next[n] = e.hash
		resp.resources = append(resp.resources, deltaItem{name: n, version: e.hash, res: e.served(cur.raw)})
	}
	// As for SotW: at most one answered watch per type per stream, and
	// the stream reads its channel whenever one is open.
	w.out <- resp
	return true
}

// candidates is every name that may differ: the subscribed ones, or for a
// wildcard stream every name of cur and every one the client holds.
func (w *deltaWatch) candidates(cur *view, returned map[string]string) []string {
	var out []string
	if !w.sub.IsWildcard() {
		for n := range w.sub.SubscribedResources() {
			out = append(out, n)
		}
		return out
	}
	cur.each(func(n string, _ entry) { out = append(out, n) })
	for n := range returned {
		if _, ok := cur.get(n); !ok {
			out = append(out, n)
		}
	}
	return out
}

func (w *deltaWatch) subscribed(name string) bool {
	_, ok := w.sub.SubscribedResources()[name]
	return ok
}

type deltaItem struct {
	name, version string
	res           types.Resource
}

// deltaResponse is a delta response; pre-marshalled resources are copied,
// not marshalled.
type deltaResponse struct {
	req       *cache.DeltaRequest
	version   string
	resources []deltaItem
	removed   []string
	next      map[string]string // what the client holds after this response
}

var _ cache.DeltaResponse = (*deltaResponse)(nil)

func (r *deltaResponse) GetDeltaDiscoveryResponse() (*discoveryv3.DeltaDiscoveryResponse, error) {
	out := &discoveryv3.DeltaDiscoveryResponse{TypeUrl: r.req.GetTypeUrl(), SystemVersionInfo: r.version,
		RemovedResources: r.removed, Resources: make([]*discoveryv3.Resource, len(r.resources))}
	for i, it := range r.resources {
		b, err := encoded(it.res)
		if err != nil {
			return nil, fmt.Errorf("marshal %s %s: %w", r.req.GetTypeUrl(), it.name, err)
		}
		out.Resources[i] = &discoveryv3.Resource{Name: it.name, Version: it.version,
			Resource: &anypb.Any{TypeUrl: r.req.GetTypeUrl(), Value: b}}
	}
	return out, nil
}

func (r *deltaResponse) GetDeltaRequest() *discoveryv3.DeltaDiscoveryRequest { return r.req }
func (r *deltaResponse) GetSystemVersion() (string, error)                   { return r.version, nil }
func (r *deltaResponse) GetResponseVersion() string                          { return r.version }
func (r *deltaResponse) GetNextVersionMap() map[string]string                { return r.next }
func (r *deltaResponse) GetReturnedResources() map[string]string             { return maps.Clone(r.next) }
func (r *deltaResponse) GetContext() context.Context                         { return context.Background() }
