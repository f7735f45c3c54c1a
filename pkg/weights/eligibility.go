package weights

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// minLagWeightPercent is the weight an eligible tablet keeps at lag.max.
const minLagWeightPercent = 10

// verdict is the policy's decision about one tablet for one class.
type verdict struct {
	tablet *topology.Tablet
	port   uint32
	health Health
	weight uint32 // the share the policy wants: capacity × lag × ramp
	envoy  uint32 // the weight Envoy gets: capacity × ramp (it handles lag with DEGRADED)
	why    Reason // why it takes no new requests; "" when eligible
	detail string // why, in words: "lag 45s > lag.max 30s"
	note   string // how an eligible tablet's weight was reduced, if it was
}

// servingOK reports whether a tablet may serve at all: SERVING, no health
// error, and a schema version the keyspace accepts.
func servingOK(ks *topology.Keyspace, t *topology.Tablet) bool {
	why, _ := servingReason(ks, t)
	return why == ""
}

// SchemaOK reports whether the tablet's schema version is one the keyspace
// accepts; an empty list accepts every version.
func SchemaOK(ks *topology.Keyspace, t *topology.Tablet) bool {
	return len(ks.SchemaVersions) == 0 || slices.Contains(ks.SchemaVersions, t.SchemaVersion)
}

// notEligible is the health of a tablet that must get no new requests.
func notEligible(t *topology.Tablet) Health {
	if t.State == topology.StateDraining {
		return Draining
	}
	return Unhealthy
}

// addressable returns the tablets of the given type that have a port for
// the keyspace's port name; a tablet without one cannot be addressed at all.
func addressable(ks *topology.Keyspace, s *topology.Shard, keep func(*topology.Tablet) bool) []verdict {
	var out []verdict
	for _, t := range s.Tablets {
		if !keep(t) {
			continue
		}
		if port, ok := portOf(ks, t); ok {
			why, detail := servingReason(ks, t)
			out = append(out, verdict{tablet: t, port: port, health: notEligible(t), weight: t.Weight, envoy: t.Weight, why: why, detail: detail})
		}
	}
	return out
}

// readers evaluates the replica or rdonly tablets of a shard. Lag above
// lag.max excludes a tablet (until it is back under the re-admission level,
// see topology.Tablet.LagHeld), except that the lag.min_serving least-lagged
// serving tablets stay eligible (as VTGate does), so that a fleet-wide lag
// spike degrades reads instead of failing them. Above lag.degraded a tablet
// is Degraded and its weight falls linearly to minLagWeightPercent at
// lag.max. A tablet that became eligible recently ramps up: rampStep
// returns the slow-start step of the shard's i-th tablet.
func readers(ks *topology.Keyspace, s *topology.Shard, typ topology.TabletType, rampStep func(i int) int) []verdict {
	vs := addressable(ks, s, func(t *topology.Tablet) bool { return t.Type == typ })
	var serving []int
	for i, v := range vs {
		if servingOK(ks, v.tablet) {
			serving = append(serving, i)
		}
	}
	sort.SliceStable(serving, func(a, b int) bool {
		return vs[serving[a]].tablet.ReplicationLag < vs[serving[b]].tablet.ReplicationLag
	})
	for rank, i := range serving {
		v := &vs[i]
		lag := v.tablet.ReplicationLag
		if (lag > ks.Lag.Max || v.tablet.LagHeld) && rank >= ks.Lag.MinServing {
			v.why, v.detail = lagReason(ks, v.tablet)
			continue
		}
		step := rampStep(slices.Index(s.Tablets, v.tablet))
		ramp := rampPercent(ks, step)
		v.health, v.weight, v.envoy = Healthy, scale(v.tablet.Weight, ramp), scale(v.tablet.Weight, ramp)
		v.why, v.detail = "", ""
		if step < RampSteps {
			v.note = fmt.Sprintf("ramping up: %d%% of its weight", ramp)
		}
		if lag > ks.Lag.Max || v.tablet.LagHeld {
			v.note = fmt.Sprintf("lag %v > lag.max %v, kept by lag.min_serving %d", lag, ks.Lag.Max, ks.Lag.MinServing)
		}
		if lag > ks.Lag.Degraded {
			v.health = Degraded
			v.weight = scale(v.weight, lagWeightPercent(lag, ks.Lag))
			v.note = strings.TrimPrefix(v.note+"; ", "; ") + fmt.Sprintf("degraded: lag %v > lag.degraded %v", lag, ks.Lag.Degraded)
		}
	}
	return vs
}

// lagWeightPercent falls linearly from 100 at lag.degraded to
// minLagWeightPercent at lag.max and stays there beyond.
func lagWeightPercent(lag time.Duration, p topology.LagPolicy) uint32 {
	span := p.Max - p.Degraded
	if span <= 0 || lag >= p.Max {
		return minLagWeightPercent
	}
	over := float64(lag-p.Degraded) / float64(span)
	return uint32(100 - over*(100-minLagWeightPercent))
}

// scale returns w × percent / 100, at least 1.
func scale(w, percent uint32) uint32 {
	return max(1, uint32(uint64(w)*uint64(percent)/100))
}

// primaries evaluates the primary tablets of a shard. The tablet with the
// newest primary_term_start is the only one that may take new requests;
// an older-term tablet still claiming SERVING is fenced (Unhealthy), and a
// DRAINING one keeps its existing connections only.
func primaries(ks *topology.Keyspace, s *topology.Shard) []verdict {
	// The newest term is found among every primary record, addressable or
	// not: a newer primary without a usable port still ends older terms.
	var newest *topology.Tablet
	for _, t := range s.Tablets {
		if t.Type == topology.TypePrimary && (newest == nil || t.PrimaryTermStart.After(newest.PrimaryTermStart)) {
			newest = t
		}
	}
	vs := addressable(ks, s, func(t *topology.Tablet) bool { return t.Type == topology.TypePrimary })
	for i := range vs {
		switch {
		case vs[i].tablet != newest:
			vs[i].health = notEligible(vs[i].tablet)
			vs[i].why, vs[i].detail = ReasonFenced, "older primary term (fenced)"
		case vs[i].why == "":
			vs[i].health = Healthy
		}
	}
	return vs
}

// semiSyncReaders evaluates the replicas that may answer a read that must
// see the client's own writes: semi-sync replicas lagging at most
// read_after_write_max_lag. Async replicas are never considered.
func semiSyncReaders(ks *topology.Keyspace, s *topology.Shard) []verdict {
	vs := addressable(ks, s, rawReplica)
	for i := range vs {
		t := vs[i].tablet
		switch {
		case vs[i].why != "":
		case t.ReplicationLag > ks.ReadAfterWriteMaxLag:
			vs[i].why, vs[i].detail = ReasonRAWLag, fmt.Sprintf("lag %v > read_after_write_max_lag %v", t.ReplicationLag, ks.ReadAfterWriteMaxLag)
		default:
			vs[i].health = Healthy
		}
	}
	return vs
}
