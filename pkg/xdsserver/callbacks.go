package xdsserver

import (
	"context"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

func (s *Server) callbacks() serverv3.Callbacks {
	return serverv3.CallbackFuncs{
		StreamOpenFunc: func(ctx context.Context, id int64, _ string) error {
			s.streams.open(id, false, s.certTenant(ctx))
			return nil
		},
		StreamClosedFunc: func(id int64, _ *corev3.Node) { s.closed(id) },
		DeltaStreamOpenFunc: func(ctx context.Context, id int64, _ string) error {
			s.streams.open(id, true, s.certTenant(ctx))
			return nil
		},
		DeltaStreamClosedFunc:   func(id int64, _ *corev3.Node) { s.closed(id) },
		StreamRequestFunc:       s.onRequest,
		StreamResponseFunc:      s.onResponse,
		StreamDeltaRequestFunc:  s.onDeltaRequest,
		StreamDeltaResponseFunc: s.onDeltaResponse,
	}
}

func (s *Server) register(id int64, n *corev3.Node) *corev3.Node {
	if s.tenantFromCert && n != nil {
		// Every request that carries a node, not only the first: the cache
		// groups nodes by whatever node a request names.
		setTenant(n, s.streams.certTenantOf(id))
	}
	node, first := s.streams.node(id, n)
	if first {
		g := s.cache.Register(node)
		s.observer.StreamOpened(g.ID())
		s.log.Info("node connected", "stream", id, "node", node.GetId(), "group", g.ID(), "user_agent", node.GetUserAgentName())
	}
	return node
}

func (s *Server) closed(id int64) {
	if group, ok := s.streams.close(id); ok {
		s.observer.StreamClosed(group)
	}
}

// onRequest handles a SotW request before go-control-plane's cache sees it.
// A NACK carries the version the client last accepted, which differs from
// the snapshot's, so the cache would re-send the rejected version at once.
// Rewriting the request's version to the rejected one makes the cache wait
// for the next snapshot instead.
func (s *Server) onRequest(id int64, req *discoveryv3.DiscoveryRequest) error {
	node := s.register(id, req.GetNode())
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	st := s.streams.byID[id]
	if st == nil {
		return nil
	}
	if req.GetErrorDetail() == nil {
		if v := req.GetVersionInfo(); v != "" && st.status.Acked[req.GetTypeUrl()] != v {
			st.status.Acked[req.GetTypeUrl()] = v
			s.observer.Acked(st.status.Group, req.GetTypeUrl(), v)
		}
		return nil
	}
	last, ok := st.sent[req.GetTypeUrl()]
	if !ok || last.nonce != req.GetResponseNonce() {
		return nil // a NACK of a stale response; the server ignores it anyway
	}
	s.observer.Nacked(st.status.Group, req.GetTypeUrl())
	st.status.LastNack = &Nack{TypeURL: req.GetTypeUrl(), Version: last.version, Error: req.GetErrorDetail().GetMessage(), At: time.Now()}
	s.log.Warn("NACK", "stream", id, "node", node.GetId(), "group", st.status.Group, "type", req.GetTypeUrl(),
		"version", last.version, "error", req.GetErrorDetail().GetMessage())
	req.VersionInfo = last.version
	return nil
}

func (s *Server) onResponse(_ context.Context, id int64, _ *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	if st := s.streams.byID[id]; st != nil {
		st.sent[resp.GetTypeUrl()] = sent{nonce: resp.GetNonce(), version: resp.GetVersionInfo()}
	}
	s.observer.Responded(resp.GetTypeUrl(), len(resp.GetResources()))
}

// onDeltaRequest registers the node and records NACKs. Delta xDS needs no
// rewrite: the server tracks what it sent, so a NACK causes no re-send.
func (s *Server) onDeltaRequest(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
	node := s.register(id, req.GetNode())
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	st := s.streams.byID[id]
	if st == nil {
		return nil
	}
	if req.GetErrorDetail() != nil {
		last := st.sent[req.GetTypeUrl()]
		s.observer.Nacked(st.status.Group, req.GetTypeUrl())
		st.status.LastNack = &Nack{TypeURL: req.GetTypeUrl(), Version: last.version, Error: req.GetErrorDetail().GetMessage(), At: time.Now()}
		s.log.Warn("NACK", "stream", id, "node", node.GetId(), "group", st.status.Group, "type", req.GetTypeUrl(),
			"version", last.version, "error", req.GetErrorDetail().GetMessage())
	} else if last, ok := st.sent[req.GetTypeUrl()]; ok && last.nonce == req.GetResponseNonce() {
		st.status.Acked[req.GetTypeUrl()] = last.version
		s.observer.Acked(st.status.Group, req.GetTypeUrl(), last.version)
	}
	return nil
}

func (s *Server) onDeltaResponse(id int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	if st := s.streams.byID[id]; st != nil {
		st.sent[resp.GetTypeUrl()] = sent{nonce: resp.GetNonce(), version: resp.GetSystemVersionInfo()}
	}
	s.observer.Responded(resp.GetTypeUrl(), len(resp.GetResources()))
}
