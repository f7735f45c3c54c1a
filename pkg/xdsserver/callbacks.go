package xdsserver

import (
	"context"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"

	"github.com/shardmesh/shardmesh/pkg/clients"
)

func (s *Server) callbacks() serverv3.Callbacks {
	sotw := func(id int64) streamID { return streamID{n: id} }
	delta := func(id int64) streamID { return streamID{delta: true, n: id} }
	return serverv3.CallbackFuncs{
		StreamOpenFunc: func(ctx context.Context, id int64, _ string) error {
			s.streams.open(sotw(id), s.certTenant(ctx))
			return nil
		},
		StreamClosedFunc: func(id int64, _ *corev3.Node) { s.closed(sotw(id)) },
		DeltaStreamOpenFunc: func(ctx context.Context, id int64, _ string) error {
			s.streams.open(delta(id), s.certTenant(ctx))
			return nil
		},
		DeltaStreamClosedFunc: func(id int64, _ *corev3.Node) { s.closed(delta(id)) },
		StreamRequestFunc:     func(id int64, req *discoveryv3.DiscoveryRequest) error { return s.onRequest(sotw(id), req) },
		StreamResponseFunc: func(_ context.Context, id int64, _ *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
			s.sent(sotw(id), resp.GetTypeUrl(), sent{nonce: resp.GetNonce(), version: resp.GetVersionInfo()}, len(resp.GetResources()))
		},
		StreamDeltaRequestFunc: func(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
			return s.onDeltaRequest(delta(id), req)
		},
		StreamDeltaResponseFunc: func(id int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
			s.sent(delta(id), resp.GetTypeUrl(), sent{nonce: resp.GetNonce(), version: resp.GetSystemVersionInfo()}, len(resp.GetResources()))
		},
	}
}

// register binds a request's node to its stream's group in the cache
// before the request reaches the cache: the group, with the tenant of the
// stream's certificate under mTLS, travels as a typed value, and the
// node is never modified.
func (s *Server) register(id streamID, n *corev3.Node) *corev3.Node {
	node, g, seen := s.streams.node(id, n, s.tenantFromCert)
	switch seen {
	case nodeFirst:
		s.cache.RegisterAs(n, g)
		s.observer.StreamOpened(g.ID())
		s.log.Info("node connected", "stream", id.n, "delta", id.delta, "node", node.GetId(), "group", g.ID(), "user_agent", node.GetUserAgentName(),
			"client", clients.Classify(node).String())
	case nodeNew:
		s.cache.Bind(n, g)
	}
	return node
}

func (s *Server) closed(id streamID) {
	if group, nodes, ok := s.streams.close(id); ok {
		s.observer.StreamClosed(group)
		s.cache.Release(group, nodes...)
	}
}

// withStream runs f on an open stream's record with s.streams.mu held.
func (s *Server) withStream(id streamID, f func(*stream)) {
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	if st := s.streams.byID[id]; st != nil {
		f(st)
	}
}

// onRequest registers the node of a SotW request and records ACKs and
// NACKs; the cache itself does not re-send a NACKed version (see
// xdscache's clientVersion).
func (s *Server) onRequest(id streamID, req *discoveryv3.DiscoveryRequest) error {
	node := s.register(id, req.GetNode())
	s.withStream(id, func(st *stream) {
		if req.GetErrorDetail() == nil {
			if v := req.GetVersionInfo(); v != "" && st.status.Acked[req.GetTypeUrl()] != v {
				st.status.Acked[req.GetTypeUrl()] = v
				s.observer.Acked(st.status.Group, req.GetTypeUrl(), v)
			}
			return
		}
		last, ok := st.sent[req.GetTypeUrl()]
		if !ok || last.nonce != req.GetResponseNonce() {
			return // a NACK of a stale response; the server ignores it anyway
		}
		s.nacked(id, st, node, req.GetTypeUrl(), last.version, req.GetErrorDetail().GetMessage())
	})
	return nil
}

// onDeltaRequest registers the node and records ACKs and NACKs. Delta xDS
// needs no rewrite: the server tracks what it sent, so a NACK causes no
// re-send.
func (s *Server) onDeltaRequest(id streamID, req *discoveryv3.DeltaDiscoveryRequest) error {
	node := s.register(id, req.GetNode())
	s.withStream(id, func(st *stream) {
		last, ok := st.sent[req.GetTypeUrl()]
		switch {
		case req.GetErrorDetail() != nil:
			s.nacked(id, st, node, req.GetTypeUrl(), last.version, req.GetErrorDetail().GetMessage())
		case ok && last.nonce == req.GetResponseNonce():
			st.status.Acked[req.GetTypeUrl()] = last.version
			s.observer.Acked(st.status.Group, req.GetTypeUrl(), last.version)
		}
	})
	return nil
}

// nacked records a rejected response; s.streams.mu is held.
func (s *Server) nacked(id streamID, st *stream, node *corev3.Node, typeURL, version, msg string) {
	s.observer.Nacked(st.status.Group, typeURL)
	st.status.LastNack = &Nack{TypeURL: typeURL, Version: version, Error: msg, At: time.Now()}
	s.log.Warn("NACK", "stream", id.n, "delta", id.delta, "node", node.GetId(), "group", st.status.Group,
		"type", typeURL, "version", version, "error", msg)
}

// sent records a response sent on a stream.
func (s *Server) sent(id streamID, typeURL string, last sent, resources int) {
	s.withStream(id, func(st *stream) { st.sent[typeURL] = last })
	s.observer.Responded(typeURL, resources)
}
