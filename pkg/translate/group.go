package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/shardmesh/shardmesh/pkg/clients"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// TenantMetadataKey is the node metadata field that names a node's tenant
// when the tenant does not come from its mTLS identity.
const TenantMetadataKey = "tenant"

// Group is the set of nodes that receive one snapshot: same locality,
// same tenant, same client kind, same encoding.
type Group struct {
	Region string
	Zone   string
	Tenant string
	Kind   weights.ClientKind
	// Encoding is how resources are written for the group's clients
	// (package clients); "" is clients.Current.
	Encoding clients.Encoding
}

// ID is the group's cache key, "<kind>/<region>/<zone>/<tenant>", the kind
// followed by "+<encoding>" for any encoding but clients.Current.
func (g Group) ID() string {
	kind := string(g.Kind)
	if g.Encoding != "" && g.Encoding != clients.Current {
		kind += "+" + string(g.Encoding)
	}
	return kind + "/" + g.Region + "/" + g.Zone + "/" + g.Tenant
}

// Locality is the group's client locality.
func (g Group) Locality() weights.Locality {
	return weights.Locality{Region: g.Region, Zone: g.Zone}
}

// GroupOf returns the group of a node from its locality, what it announces
// (clients.Classify: proxyless gRPC families are KindGRPC, all others are
// treated as Envoy; the encoding is the client's) and its metadata tenant.
func GroupOf(node *corev3.Node) Group {
	c := clients.Classify(node)
	g := Group{Kind: weights.KindEnvoy, Encoding: c.Encoding}
	if c.Family.Proxyless() {
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
