package xdsserver

import (
	"context"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/shardmesh/shardmesh/pkg/snapshot"
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

// setTenant overwrites a node's metadata tenant.
func setTenant(n *corev3.Node, tenant string) {
	if n.Metadata == nil {
		n.Metadata = &structpb.Struct{Fields: map[string]*structpb.Value{}}
	}
	if n.Metadata.Fields == nil {
		n.Metadata.Fields = map[string]*structpb.Value{}
	}
	n.Metadata.Fields[snapshot.TenantMetadataKey] = structpb.NewStringValue(tenant)
}
