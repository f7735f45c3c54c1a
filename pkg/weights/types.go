package weights

import "github.com/shardmesh/shardmesh/pkg/topology"

// Class is a route class: the consistency a request asks for. Each class of
// each shard is one Envoy cluster named "<keyspace>/<shard>/<class>".
type Class string

// Route classes.
const (
	ClassPrimary        Class = "primary"
	ClassReadAfterWrite Class = "read-after-write"
	ClassReplica        Class = "replica"
	ClassRdonly         Class = "rdonly"
)

// Classes lists every route class in a fixed order.
var Classes = []Class{ClassPrimary, ClassReadAfterWrite, ClassReplica, ClassRdonly}

// ParseClass returns the class named s (the x-tablet-type header value).
func ParseClass(s string) (Class, bool) {
	for _, c := range Classes {
		if string(c) == s {
			return c, true
		}
	}
	return "", false
}

// ClientKind says how a client acts on an assignment. Envoy honours
// health-based priority spill, DEGRADED and overprovisioning; proxyless gRPC
// uses only HEALTHY/UNKNOWN endpoints and no overprovisioning, so the same
// intent is encoded differently for it.
type ClientKind string

// Client kinds.
const (
	KindEnvoy ClientKind = "envoy"
	KindGRPC  ClientKind = "grpc"
)

// Locality is a client's place: Envoy's node.locality region and zone. The
// zero value is a client with no locality.
type Locality struct {
	Region string
	Zone   string
}

// Health is an endpoint's advertised health status.
type Health int

// Health statuses, mapped one to one onto Envoy's core.HealthStatus.
const (
	Healthy Health = iota
	Degraded
	Draining
	Unhealthy
)

func (h Health) String() string {
	return [...]string{"HEALTHY", "DEGRADED", "DRAINING", "UNHEALTHY"}[h]
}

// Endpoint is one tablet in an assignment.
type Endpoint struct {
	Alias  string
	Host   string
	Port   uint32
	Health Health
	Weight uint32 // ≥ 1
}

// LocalityEndpoints is the tablets of one cell at one priority.
type LocalityEndpoints struct {
	Region    string
	Zone      string
	Cell      string // Envoy's sub_zone
	Priority  uint32
	Weight    uint32 // load_balancing_weight, ≥ 1
	Endpoints []Endpoint
}

// Assignment is the endpoints of one cluster for one client, ordered by
// priority, then region, zone and cell; endpoints by alias. An assignment
// with no usable endpoint makes clients fail fast with a controlled error.
type Assignment struct {
	Localities []LocalityEndpoints
}

// Usable counts the endpoints a client may send new requests to.
func (a Assignment) Usable() int {
	n := 0
	for _, l := range a.Localities {
		for _, e := range l.Endpoints {
			if e.Health == Healthy || e.Health == Degraded {
				n++
			}
		}
	}
	return n
}

// tabletTypeOf is the tablet type that serves a class's main traffic.
func tabletTypeOf(c Class) topology.TabletType {
	switch c {
	case ClassReplica:
		return topology.TypeReplica
	case ClassRdonly:
		return topology.TypeRdonly
	default:
		return topology.TypePrimary
	}
}
