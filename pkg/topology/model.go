package topology

import (
	"sort"
	"strings"
	"time"
)

// TabletType is a Vitess tablet type. Only Primary, Replica and Rdonly are
// ever routed; the other Vitess types are valid records that receive no
// traffic.
type TabletType string

// Tablet types. Decoding lower-cases the record's value.
const (
	TypePrimary      TabletType = "primary"
	TypeReplica      TabletType = "replica"
	TypeRdonly       TabletType = "rdonly"
	TypeSpare        TabletType = "spare"
	TypeBackup       TabletType = "backup"
	TypeRestore      TabletType = "restore"
	TypeDrained      TabletType = "drained"
	TypeExperimental TabletType = "experimental"
)

// Routable reports whether tablets of this type may receive traffic.
func (t TabletType) Routable() bool {
	return t == TypePrimary || t == TypeReplica || t == TypeRdonly
}

// ServingState is a tablet's self-reported serving state.
type ServingState string

// Serving states.
const (
	StateServing    ServingState = "SERVING"
	StateNotServing ServingState = "NOT_SERVING"
	StateDraining   ServingState = "DRAINING"
)

// Replication modes of a replica.
const (
	ReplicationSemiSync = "semi-sync"
	ReplicationAsync    = "async"
)

// DefaultTabletWeight is a tablet's relative capacity when its record names none.
const DefaultTabletWeight = 100

// Cell is a Vitess cell placed in a cloud locality.
type Cell struct {
	Name   string `json:"name"`
	Region string `json:"region"`
	Zone   string `json:"zone"` // defaults to Name
}

// Tablet is one validated tablet record.
type Tablet struct {
	Alias            string            `json:"alias"` // <cell>-<uid>, the key suffix under P/tablets/
	Keyspace         string            `json:"keyspace"`
	Shard            string            `json:"shard"`
	Type             TabletType        `json:"type"`
	Cell             string            `json:"cell"`
	Hostname         string            `json:"hostname"`
	PortMap          map[string]uint32 `json:"port_map"`
	State            ServingState      `json:"state"`
	HealthError      string            `json:"health_error,omitempty"`
	ReplicationLag   time.Duration     `json:"replication_lag_ns"`
	Replication      string            `json:"replication,omitempty"` // ReplicationSemiSync, ReplicationAsync or ""
	SchemaVersion    string            `json:"schema_version,omitempty"`
	PrimaryTermStart time.Time         `json:"primary_term_start,omitzero"` // zero when absent
	ServingSince     time.Time         `json:"serving_since,omitzero"`      // zero when absent
	Weight           uint32            `json:"weight"`                      // 1..10000
	Tags             map[string]string `json:"tags,omitempty"`

	// LagHeld is set by Builder, not decoded: the tablet's lag went above
	// its keyspace's lag.max and has not yet fallen back to the
	// re-admission level (LagReadmitPercent of lag.max). It gives lag
	// exclusion hysteresis, so a replica hovering around lag.max does not
	// flap in and out of the assignment.
	LagHeld bool `json:"lag_held,omitempty"`
}

// LagReadmitPercent is the share of lag.max a held tablet's lag must fall
// to before it is eligible again.
const LagReadmitPercent = 90

// Keyspace is a keyspace and the routing policy the control plane honours
// for it. A keyspace that has tablets but no policy record gets
// DefaultKeyspace.
type Keyspace struct {
	Name     string `json:"name"`
	Tenant   string `json:"tenant,omitempty"`
	PortName string `json:"port_name"`
	// MySQLPortBase, when set, gives Envoy sidecars a TCP listener per
	// shard and class for MySQL-protocol traffic on 127.0.0.1:
	// MySQLPortBase + 4 × (the shard's position in key range order) + the
	// class's position (primary, read-after-write, replica, rdonly).
	MySQLPortBase        uint32         `json:"mysql_port_base,omitempty"`
	MySQLPortName        string         `json:"mysql_port_name"` // the tablets' port_map entry for MySQL, default "mysql"
	SchemaVersions       []string       `json:"schema_versions,omitempty"`
	Lag                  LagPolicy      `json:"lag"`
	ReadAfterWriteMaxLag time.Duration  `json:"read_after_write_max_lag_ns"`
	Failover             FailoverPolicy `json:"failover"`
	Ramp                 RampPolicy     `json:"ramp"`
	// BufferWindow bounds how long a write is retried while the shard has
	// no serving primary (a reparent), like VTGate's buffering.
	BufferWindow     time.Duration    `json:"buffer_window_ns"`
	CircuitBreakers  CircuitBreakers  `json:"circuit_breakers"`
	OutlierDetection OutlierDetection `json:"outlier_detection"`
}

// CircuitBreakers are per-cluster limits. Proxyless gRPC honours only
// MaxRequests; Envoy honours all of them.
type CircuitBreakers struct {
	MaxConnections     uint32
	MaxPendingRequests uint32
	MaxRequests        uint32
	MaxRetries         uint32
}

// OutlierDetection ejects failing tablets from replica and rdonly clusters
// (never from the single-primary clusters). Envoy and gRPC both honour the
// failure-percentage algorithm; Consecutive5xx is Envoy's alone.
type OutlierDetection struct {
	Enabled                   bool
	Interval                  time.Duration
	BaseEjectionTime          time.Duration
	MaxEjectionPercent        uint32
	Consecutive5xx            uint32
	FailurePercentThreshold   uint32
	FailurePercentMinimumHost uint32
	FailurePercentRequestVol  uint32
}

// LagPolicy bounds replication lag for reads.
type LagPolicy struct {
	Degraded   time.Duration // above this an eligible replica is degraded
	Max        time.Duration // above this a replica is not eligible...
	MinServing int           // ...unless it is among the MinServing least lagged
}

// FailoverPolicy says where reads may go when the client's region has no
// eligible tablet.
type FailoverPolicy struct {
	CrossRegion bool
	RegionOrder map[string][]string // client region -> other regions, nearest first
}

// RampPolicy is the slow start of a tablet that becomes eligible.
type RampPolicy struct {
	Window           time.Duration
	MinWeightPercent uint32
}

// DefaultKeyspace returns the policy of a keyspace with no policy record.
func DefaultKeyspace(name string) *Keyspace {
	return &Keyspace{
		Name:                 name,
		PortName:             "grpc",
		MySQLPortName:        "mysql",
		Lag:                  LagPolicy{Degraded: 10 * time.Second, Max: 30 * time.Second, MinServing: 2},
		ReadAfterWriteMaxLag: time.Second,
		Failover:             FailoverPolicy{CrossRegion: true},
		Ramp:                 RampPolicy{Window: 30 * time.Second, MinWeightPercent: 10},
		BufferWindow:         10 * time.Second,
		CircuitBreakers:      CircuitBreakers{MaxConnections: 1024, MaxPendingRequests: 1024, MaxRequests: 1024, MaxRetries: 3},
		OutlierDetection: OutlierDetection{
			Enabled: true, Interval: 10 * time.Second, BaseEjectionTime: 30 * time.Second, MaxEjectionPercent: 34,
			Consecutive5xx: 5, FailurePercentThreshold: 50, FailurePercentMinimumHost: 3, FailurePercentRequestVol: 20,
		},
	}
}

// Shard is one shard of a keyspace with its valid tablets, sorted by alias.
// A Topology shares unchanged Shard values with the Topology it was built
// after, so pointer equality means "nothing in this shard changed".
type Shard struct {
	Keyspace string
	Name     string
	Range    KeyRange
	Tablets  []*Tablet
}

// ShardKey identifies a shard.
type ShardKey struct {
	Keyspace string
	Shard    string
}

// String returns "<keyspace>/<shard>".
func (k ShardKey) String() string { return k.Keyspace + "/" + k.Shard }

// RoutingRule redirects the traffic of a keyspace (optionally of one tablet
// type) to another keyspace, in Vitess's keyspace routing rule format.
type RoutingRule struct {
	FromKeyspace string
	TabletType   TabletType // "" for every type
	ToKeyspace   string
}

// Problem is a record that failed validation.
type Problem struct {
	Key string // the etcd key, without the prefix
	Err error
	// Shard is the shard an invalid tablet record names, when its keyspace
	// and shard fields can be read; zero otherwise.
	Shard ShardKey
}

// Alias is the tablet alias of a problem under P/tablets/, "" for other keys.
func (p Problem) Alias() string {
	if alias, ok := strings.CutPrefix(p.Key, TabletsPrefix); ok {
		return alias
	}
	return ""
}

// Topology is an immutable, validated view of the fleet at one etcd
// revision. Callers must not modify it or anything it points to.
type Topology struct {
	Revision  int64
	Cells     map[string]Cell
	Keyspaces map[string]*Keyspace // every keyspace with a policy record or a tablet
	Shards    map[ShardKey]*Shard
	Rules     []RoutingRule
	Overrides Overrides
	Shifts    map[string]*Shift // by name
	Problems  []Problem         // sorted by key

	byKeyspace map[string][]*Shard // filled by Builder.Build
}

// ShardsOf returns the shards of a keyspace ordered by the start of their
// key range, then by name.
// The slice is shared: callers must not modify it.
func (t *Topology) ShardsOf(keyspace string) []*Shard {
	return t.byKeyspace[keyspace]
}

// index fills byKeyspace from Shards.
func (t *Topology) index() {
	t.byKeyspace = map[string][]*Shard{}
	for k, s := range t.Shards {
		t.byKeyspace[k.Keyspace] = append(t.byKeyspace[k.Keyspace], s)
	}
	// Overlapping shards (a reshard in progress) share a start: break ties
	// by name, so that the order never depends on map iteration.
	for _, ss := range t.byKeyspace {
		sort.Slice(ss, func(i, j int) bool {
			a, b := ss[i], ss[j]
			if a.Range.Less(b.Range) || b.Range.Less(a.Range) {
				return a.Range.Less(b.Range)
			}
			return a.Name < b.Name
		})
	}
}

// KeyspaceNames returns the keyspace names in order.
func (t *Topology) KeyspaceNames() []string {
	names := make([]string, 0, len(t.Keyspaces))
	for n := range t.Keyspaces {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CellOf returns the cell of a tablet, or a cell with no locality when the
// tablet names a cell the topology does not know.
func (t *Topology) CellOf(name string) (Cell, bool) {
	c, ok := t.Cells[name]
	if !ok {
		return Cell{Name: name}, false
	}
	return c, true
}
