package translate

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/shardmesh/shardmesh/pkg/weights"
)

// TenantMetadataKey is the node metadata field that names a node's tenant
// when the tenant does not come from its mTLS identity.
const TenantMetadataKey = "tenant"

// Group is the set of nodes that receive the same resources: same
// locality, same tenant, same client kind.
type Group struct {
	Region string
	Zone   string
	Tenant string
	Kind   weights.ClientKind
}

// ID is the group's cache key, "<kind>/<region>/<zone>/<tenant>".
func (g Group) ID() string {
	return string(g.Kind) + "/" + g.Region + "/" + g.Zone + "/" + g.Tenant
}

// Locality is the group's client locality.
func (g Group) Locality() weights.Locality {
	return weights.Locality{Region: g.Region, Zone: g.Zone}
}

// GroupOf returns the group of a node from its locality, user agent and
// metadata tenant. Nodes whose user agent names gRPC (grpc-go, grpc-node-js,
// grpc-java, ...) are proxyless gRPC clients; all others are treated as Envoy.
func GroupOf(node *corev3.Node) Group {
	g := Group{Kind: weights.KindEnvoy}
	if strings.Contains(strings.ToLower(node.GetUserAgentName()), "grpc") {
		g.Kind = weights.KindGRPC
	}
	if l := node.GetLocality(); l != nil {
		g.Region, g.Zone = l.GetRegion(), l.GetZone()
	}
	if v, ok := node.GetMetadata().GetFields()[TenantMetadataKey]; ok {
		g.Tenant = v.GetStringValue()
	}
	return g
}
