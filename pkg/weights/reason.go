package weights

import (
	"fmt"
	"strings"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// Reason says why a tablet takes no new requests of a class. The policy
// records it where it decides (eligibility, fencing, drains), so that
// Explain reports the decision the resources were built from.
type Reason string

// Reasons a tablet gets nothing.
const (
	ReasonNotServing  Reason = "not_serving"          // state NOT_SERVING
	ReasonDraining    Reason = "draining"             // state DRAINING
	ReasonHealthError Reason = "health_error"         // the record carries a health_error
	ReasonSchema      Reason = "schema"               // schema_version not in schema_versions
	ReasonLag         Reason = "lag"                  // replication lag above lag.max
	ReasonRAWLag      Reason = "read_after_write_lag" // lag above read_after_write_max_lag
	ReasonFenced      Reason = "fenced"               // a primary of an older term
	ReasonCellDrained Reason = "cell_drained"         // an operator drained its cell
	ReasonShifted     Reason = "shifted"              // a cell shift moved all reads away
	ReasonAsync       Reason = "async_replica"        // async replicas never serve read-after-write
	ReasonType        Reason = "type"                 // its tablet type does not serve the class
	ReasonRegion      Reason = "region"               // another region, failover.cross_region off
	ReasonNoPort      Reason = "no_port"              // no port_map entry for the keyspace's port name
	ReasonTenant      Reason = "tenant"               // the keyspace belongs to another tenant
	ReasonInvalid     Reason = "invalid_record"       // the record failed validation
)

// servingReason is why a tablet may not serve at all, "" when it may:
// SERVING, no health error, and a schema version the keyspace accepts.
func servingReason(ks *topology.Keyspace, t *topology.Tablet) (Reason, string) {
	switch {
	case t.State == topology.StateNotServing:
		return ReasonNotServing, string(topology.StateNotServing)
	case t.State == topology.StateDraining:
		return ReasonDraining, string(topology.StateDraining)
	case t.State != topology.StateServing:
		return ReasonNotServing, string(t.State)
	case t.HealthError != "":
		return ReasonHealthError, "health_error: " + t.HealthError
	case !SchemaOK(ks, t):
		v := t.SchemaVersion
		if v == "" {
			v = "(none)"
		}
		return ReasonSchema, fmt.Sprintf("schema %s not in [%s]", v, strings.Join(ks.SchemaVersions, " "))
	}
	return "", ""
}

// lagReason is why a serving reader is left out for lag.
func lagReason(ks *topology.Keyspace, t *topology.Tablet) (Reason, string) {
	if t.ReplicationLag > ks.Lag.Max {
		return ReasonLag, fmt.Sprintf("lag %v > lag.max %v", t.ReplicationLag, ks.Lag.Max)
	}
	return ReasonLag, fmt.Sprintf("lag %v held out until below %v (%d%% of lag.max %v)",
		t.ReplicationLag, ks.Lag.Max*topology.LagReadmitPercent/100, topology.LagReadmitPercent, ks.Lag.Max)
}

// rawReplica reports whether a replica may answer read-after-write reads:
// only semi-sync replicas have acknowledged the primary's commits.
func rawReplica(t *topology.Tablet) bool {
	return t.Type == topology.TypeReplica && t.Replication == topology.ReplicationSemiSync
}

// member is why a tablet is not part of a class's assignment at all
// (another tablet type, an async replica for read-after-write), "" when
// it is. It is the same test the class's evaluation keeps tablets by.
func member(c Class, t *topology.Tablet) (Reason, string) {
	switch {
	case t.Type == topology.TypePrimary && (c == ClassPrimary || c == ClassReadAfterWrite):
		return "", ""
	case c == ClassReadAfterWrite && rawReplica(t):
		return "", ""
	case c == ClassReadAfterWrite && t.Type == topology.TypeReplica:
		return ReasonAsync, "async replica: read-after-write"
	case (c == ClassReplica || c == ClassRdonly) && t.Type == tabletTypeOf(c):
		return "", ""
	}
	return ReasonType, fmt.Sprintf("%s tablet: not in class %s", t.Type, c)
}

// portOf is the tablet's port for the keyspace's port name; a tablet
// without one cannot be addressed at all.
func portOf(ks *topology.Keyspace, t *topology.Tablet) (uint32, bool) {
	p, ok := t.PortMap[ks.PortName]
	return p, ok
}
