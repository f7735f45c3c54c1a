package xdscache

import (
	"context"
	"fmt"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// watches answers the xDS server's watches, state-of-the-world (SotW, this
// file) and delta (delta.go), in place of go-control-plane's
// SnapshotCache. That cache answers every SotW watch of a node group
// whenever the version of the watched type changes, with every resource
// the stream subscribes to, so one tablet changing sends every subscribed
// assignment to every SotW stream of every group; and for delta it copies
// the group's whole map of the type and compares every subscribed name for
// every watch of the group on every change.
//
// Here a change is matched against the names that changed (see changes),
// and a stream is answered only when a resource it subscribes to changed.
// For listeners, clusters and scoped routes, which SotW clients take as
// the full set (a missing one is deleted), the answer holds every
// subscribed resource; for assignments and route configurations it holds
// only those that changed, as the xDS protocol allows.
//
// The resources a client holds are known from the version it last
// accepted: versions are content hashes, and the recent states of each
// type are kept, so the state at that version is the client's state of
// the names it subscribes to.
type watches struct {
	mu     sync.Mutex // guards groups; each group has its own lock
	groups map[string]*watchGroup
}

// sotwHistory is how many recent states of each type a group keeps to
// find what a client holds from the version it names; an older version
// gets every subscribed resource again.
const sotwHistory = 8

type watchGroup struct {
	mu     sync.Mutex         // guards the fields below
	states map[string][]*view // type URL -> recent views, newest last
	sotw   map[*sotwWatch]struct{}
	delta  map[*deltaWatch]struct{}
}

func (g *watchGroup) current(typeURL string) *view {
	s := g.states[typeURL]
	if len(s) == 0 {
		return nil
	}
	return s[len(s)-1]
}

func (g *watchGroup) at(typeURL, version string) *view {
	for _, s := range g.states[typeURL] {
		if s.version == version {
			return s
		}
	}
	return nil
}

// sotwWatch is one stream's open request for one type.
type sotwWatch struct {
	req     *cache.Request
	sub     cache.Subscription
	out     chan cache.Response
	typeURL string
	fullSet bool  // the type's responses must hold every subscribed resource
	base    *view // the state the client holds for its names; nil: unknown
}

// fullState reports whether SotW clients take a response of the type as
// the complete set of its resources: Envoy and gRPC do for listeners and
// clusters, and Envoy for scoped route configurations.
func fullState(typeURL string) bool {
	return cache.ResourceRequiresFullStateInSotw(typeURL) || typeURL == resourcev3.ScopedRouteType
}

// group returns a group's watches, creating them; lock g.mu to use them.
func (s *watches) group(id string) *watchGroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups == nil {
		s.groups = map[string]*watchGroup{}
	}
	g := s.groups[id]
	if g == nil {
		g = &watchGroup{states: map[string][]*view{}, sotw: map[*sotwWatch]struct{}{}, delta: map[*deltaWatch]struct{}{}}
		s.groups[id] = g
	}
	return g
}

// forget drops a group's watches and history; its streams are closed.
func (s *watches) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.groups, id)
}

// watchSotW opens a watch for a SotW stream's request, answering it at once
// when the client lacks something the group's current snapshot has.
func (s *watches) watchSotW(groupID string, req *cache.Request, sub cache.Subscription, out chan cache.Response) func() {
	g := s.group(groupID)
	g.mu.Lock()
	defer g.mu.Unlock()
	w := &sotwWatch{req: req, sub: sub, out: out, typeURL: req.GetTypeUrl(), fullSet: fullState(req.GetTypeUrl())}
	w.base = g.at(w.typeURL, clientVersion(req, sub))
	if cur := g.current(w.typeURL); cur != nil && w.answer(cur) {
		return func() {}
	}
	g.sotw[w] = struct{}{}
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(g.sotw, w)
	}
}

// clientVersion is the version of the state a SotW client holds: the one
// it names, except for a NACK. A NACK names the version the client last
// accepted, yet the client still has the resources of the rejected one
// it was sent (go-control-plane records them as returned whatever the
// answer); taking it as the client's state means the rejected version is
// not sent again, and the client waits for the next change.
func clientVersion(req *cache.Request, sub cache.Subscription) string {
	if req.GetErrorDetail() == nil {
		return req.GetVersionInfo()
	}
	for _, v := range sub.ReturnedResources() {
		return v // every name the last response returned has its version
	}
	return req.GetVersionInfo()
}

// publish records a group's new snapshot and answers the watches it
// concerns; changed names what changed since the previous one.
func (s *watches) publish(groupID string, snap *groupSnap, changed changes) {
	g := s.group(groupID)
	g.mu.Lock()
	defer g.mu.Unlock()
	moved := map[string]bool{} // types whose version changed
	for _, u := range typeURLs {
		cur := snap.view(u)
		if prev := g.current(u); prev != nil && prev.version == cur.version {
			continue
		}
		moved[u] = true
		g.states[u] = append(g.states[u], cur)
		if n := len(g.states[u]); n > sotwHistory {
			g.states[u] = append([]*view(nil), g.states[u][n-sotwHistory:]...)
		}
	}
	for w := range g.delta {
		if !moved[w.typeURL] {
			continue
		}
		if names, ok := changed[w.typeURL]; ok && !concerns(w.sub, names) {
			continue // nothing the stream subscribes to changed
		}
		if w.answer(g.current(w.typeURL), changed, false) {
			delete(g.delta, w)
		}
	}
	for w := range g.sotw {
		if !moved[w.typeURL] && w.base != nil {
			continue
		}
		cur := g.current(w.typeURL)
		if names, ok := changed[w.typeURL]; ok && w.base != nil && w.base == g.previous(w.typeURL) && !concerns(w.sub, names) {
			w.base = cur // nothing the client holds changed
			continue
		}
		if w.answer(cur) {
			delete(g.sotw, w)
		}
	}
}

func (g *watchGroup) previous(typeURL string) *view {
	s := g.states[typeURL]
	if len(s) < 2 {
		return nil
	}
	return s[len(s)-2]
}

// concerns reports whether any of the names is one sub subscribes to.
func concerns(sub cache.Subscription, names []string) bool {
	if len(names) == 0 {
		return false
	}
	if sub.IsWildcard() {
		return true
	}
	subscribed := sub.SubscribedResources()
	for _, n := range names {
		if _, ok := subscribed[n]; ok {
			return true
		}
	}
	return false
}

// answer sends the response the client needs to hold cur, if any; it
// reports whether it sent one. With nothing to send, the watch's base
// moves to cur: the client's names are the same in both.
func (w *sotwWatch) answer(cur *view) bool {
	if cur == nil {
		return false
	}
	returned := w.sub.ReturnedResources()
	var wanted []string
	if w.sub.IsWildcard() {
		cur.each(func(n string, _ entry) { wanted = append(wanted, n) })
	} else {
		for n := range w.sub.SubscribedResources() {
			if _, ok := cur.get(n); ok {
				wanted = append(wanted, n)
			}
		}
	}
	var send []string
	for _, n := range wanted {
		_, had := returned[n]
		if w.base == nil || !had || w.base.hash(n) != cur.hash(n) {
			send = append(send, n)
		}
	}
	gone := false // a resource the client holds no longer exists
	if w.fullSet && w.base != nil {
		for n := range returned {
			if _, ok := cur.get(n); !ok && w.wants(n) {
				gone = true
				break
			}
		}
	}
	switch {
	case w.base == nil || gone:
		send = wanted // the first answer, or a full set that lost a member
	case len(send) == 0:
		w.base = cur
		return false
	case w.fullSet:
		send = wanted
	}
	resp := &sotwResponse{req: w.req, version: cur.version, returned: make(map[string]string, len(wanted))}
	for _, n := range wanted {
		resp.returned[n] = cur.version
	}
	for _, n := range send {
		resp.resources = append(resp.resources, cur.resource(n))
	}
	// The stream reads its channel whenever a watch is open, and holds
	// at most one answered watch per type, so this does not block.
	w.out <- resp
	return true
}

func (w *sotwWatch) wants(name string) bool {
	if w.sub.IsWildcard() {
		return true
	}
	_, ok := w.sub.SubscribedResources()[name]
	return ok
}

// sotwResponse is a SotW response whose resources are marshalled when the
// stream sends it; pre-marshalled resources are copied, not marshalled.
type sotwResponse struct {
	req       *cache.Request
	version   string
	resources []types.Resource
	returned  map[string]string // every subscribed name the client holds after this response
}

var _ cache.Response = (*sotwResponse)(nil)

func (r *sotwResponse) GetDiscoveryResponse() (*discoveryv3.DiscoveryResponse, error) {
	out := &discoveryv3.DiscoveryResponse{VersionInfo: r.version, TypeUrl: r.req.GetTypeUrl(),
		Resources: make([]*anypb.Any, len(r.resources))}
	for i, res := range r.resources {
		b, err := encoded(res)
		if err != nil {
			return nil, fmt.Errorf("marshal %s: %w", r.req.GetTypeUrl(), err)
		}
		out.Resources[i] = &anypb.Any{TypeUrl: r.req.GetTypeUrl(), Value: b}
	}
	return out, nil
}

// encoded returns a resource's encoding; for a pre-marshalled resource it
// is the stored bytes themselves, which nobody modifies.
func encoded(res types.Resource) ([]byte, error) {
	if raw, ok := res.(*emptypb.Empty); ok {
		return raw.ProtoReflect().GetUnknown(), nil
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(res)
}

func (r *sotwResponse) GetRequest() *discoveryv3.DiscoveryRequest { return r.req }
func (r *sotwResponse) GetVersion() (string, error)               { return r.version, nil }
func (r *sotwResponse) GetResponseVersion() string                { return r.version }
func (r *sotwResponse) GetReturnedResources() map[string]string   { return r.returned }
func (r *sotwResponse) GetContext() context.Context               { return context.Background() }
