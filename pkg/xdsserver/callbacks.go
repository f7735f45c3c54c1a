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

func (s *Server) register(id streamID, n *corev3.Node) *corev3.Node {
	if s.tenantFromCert && n != nil {
		// Every request that carries a node, not only the first: the cache
		// groups nodes by whatever node a request names.
		setTenant(n, s.streams.certTenantOf(id))
	}
	node, first := s.streams.node(id, n)
	if first {
		g := s.cache.Register(node)
		s.observer.StreamOpened(g.ID())
		s.log.Info("node connected", "stream", id.n, "delta", id.delta, "node", node.GetId(), "group", g.ID(), "user_agent", node.GetUserAgentName(),
			"client", clients.Classify(node).String())
	}
	return node
}

func (s *Server) closed(id streamID) {
	if group, ok := s.streams.close(id); ok {
		s.observer.StreamClosed(group)
		s.cache.Release(group)
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

// onRequest handles a SotW request before the cache sees it. A NACK
// carries the version the client last accepted, which differs from the
// snapshot's, so the cache would re-send the rejected version at once.
// Rewriting the request's version to the rejected one makes the cache wait
// for the next snapshot instead.
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
		req.VersionInfo = last.version
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
