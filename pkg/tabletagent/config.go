package tabletagent

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// Defaults of the agent's timings.
const (
	DefaultInterval          = time.Second
	DefaultHeartbeatInterval = 250 * time.Millisecond
	DefaultLeaseTTL          = 10 * time.Second
	DefaultDrainPeriod       = 5 * time.Second
	// DefaultSchemaVersionQuery reads the one-row table a migration tool
	// updates after each schema change.
	DefaultSchemaVersionQuery = "SELECT version FROM _shardmesh.schema_version LIMIT 1"
)

// Config is one agent: the MySQL instance it watches, the tablet it
// publishes, and where. cmd/tablet-agent fills it from flags.
type Config struct {
	Alias    string            // <cell>-<10-digit uid>
	Keyspace string            // keyspace of the tablet
	Shard    string            // Vitess shard name
	Hostname string            // where clients reach the tablet
	PortMap  map[string]uint32 // named ports, e.g. grpc and mysql
	Weight   uint32            // relative capacity, 1..10000; 0 means 100
	Tags     map[string]string // copied into the record
	// ReplicaType is the type a replicating instance gets: replica
	// (default) or rdonly.
	ReplicaType topology.TabletType

	// SchemaVersionQuery returns one row with one column, the schema
	// version. Default DefaultSchemaVersionQuery.
	SchemaVersionQuery string

	Interval          time.Duration // probe period; default DefaultInterval
	QueryTimeout      time.Duration // bound of each MySQL query; default Interval/2
	HeartbeatInterval time.Duration // heartbeat writes on a primary; default DefaultHeartbeatInterval
	LeaseTTL          time.Duration // etcd lease; default DefaultLeaseTTL
	EtcdTimeout       time.Duration // bound of each etcd request; default 2s
	DrainPeriod       time.Duration // DRAINING before the record is deleted; default DefaultDrainPeriod
	Prefix            string        // etcd prefix; default "/shardmesh/"

	Logger *slog.Logger    // nil: discard
	Clock  clockwork.Clock // nil: the real clock
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("invalid agent configuration")

// withDefaults validates c and returns it with defaults filled in. Errors
// name the flag-level field and wrap ErrConfig.
func (c Config) withDefaults() (Config, error) {
	fail := func(field, format string, args ...any) (Config, error) {
		return c, fmt.Errorf("%w: %s: %s", ErrConfig, field, fmt.Sprintf(format, args...))
	}
	cell, _, err := topology.ParseAlias(c.Alias)
	if err != nil {
		return fail("alias", "%v", err)
	}
	if c.Keyspace == "" {
		return fail("keyspace", "required")
	}
	c.Shard = strings.ToLower(c.Shard)
	if _, err := topology.ParseShardName(c.Shard); err != nil {
		return fail("shard", "%v", err)
	}
	if c.Hostname == "" {
		return fail("hostname", "required")
	}
	if len(c.PortMap) == 0 {
		return fail("port-map", "required (e.g. grpc=15991,mysql=3306)")
	}
	switch c.ReplicaType {
	case "":
		c.ReplicaType = topology.TypeReplica
	case topology.TypeReplica, topology.TypeRdonly:
	default:
		return fail("replica-type", "%q is not replica or rdonly", c.ReplicaType)
	}
	if c.Weight == 0 {
		c.Weight = topology.DefaultTabletWeight
	}
	if c.SchemaVersionQuery == "" {
		c.SchemaVersionQuery = DefaultSchemaVersionQuery
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.QueryTimeout == 0 {
		c.QueryTimeout = c.Interval / 2
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.EtcdTimeout == 0 {
		c.EtcdTimeout = 2 * time.Second
	}
	if c.DrainPeriod == 0 {
		c.DrainPeriod = DefaultDrainPeriod
	}
	if c.Prefix == "" {
		c.Prefix = "/shardmesh/"
	}
	for field, d := range map[string]time.Duration{"interval": c.Interval, "query-timeout": c.QueryTimeout,
		"heartbeat-interval": c.HeartbeatInterval, "etcd-timeout": c.EtcdTimeout, "drain": c.DrainPeriod} {
		if d < 0 {
			return fail(field, "%v is negative", d)
		}
	}
	if c.LeaseTTL < time.Second || c.LeaseTTL < 2*c.Interval {
		return fail("lease-ttl", "%v must be at least 1s and twice the probe interval (%v)", c.LeaseTTL, c.Interval)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	// The record's own validation (ports, weight, keyspace name) is the
	// control plane's: check a SERVING record of this tablet now, so a bad
	// flag fails at start rather than at the first write.
	probe := &topology.Tablet{Alias: c.Alias, Keyspace: c.Keyspace, Shard: c.Shard, Type: c.ReplicaType, Cell: cell,
		Hostname: c.Hostname, PortMap: c.PortMap, State: topology.StateServing, Weight: c.Weight, Tags: c.Tags}
	if _, err := topology.EncodeTablet(probe); err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}
