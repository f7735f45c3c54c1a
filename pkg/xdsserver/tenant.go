package xdsserver

import (
	"context"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// certTenant returns the tenant named by the stream's client certificate:
// the last path element after "/tenant/" in a spiffe:// URI SAN.
func (s *Server) certTenant(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ""
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		return ""
	}
	for _, u := range info.State.PeerCertificates[0].URIs {
		if u.Scheme != "spiffe" {
			continue
		}
		if _, tenant, ok := strings.Cut(u.Path, "/tenant/"); ok && tenant != "" && !strings.Contains(tenant, "/") {
			return tenant
		}
	}
	return ""
}
