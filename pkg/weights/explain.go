package weights

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// Decision is the policy's verdict on one tablet for one class and client.
type Decision struct {
	Alias  string              `json:"alias"`
	Cell   string              `json:"cell"`
	Type   topology.TabletType `json:"type"`
	Health Health              `json:"-"`
	Reason Reason              `json:"reason,omitempty"` // "" when the tablet may take requests
	Detail string              `json:"detail,omitempty"` // the reason in words
	Note   string              `json:"note,omitempty"`   // why an eligible tablet's weight is reduced
}

// decide lists the decision on every tablet of the shard in alias order:
// those the plan placed, those the client's locality rules out (left), and
// those outside the class (another type, no port).
func decide(ks *topology.Keyspace, r Request, all []placed, left []Decision) []Decision {
	byAlias := make(map[string]Decision, len(r.Inputs.Shard.Tablets))
	for _, d := range left {
		byAlias[d.Alias] = d
	}
	for _, p := range all {
		d := Decision{Alias: p.tablet.Alias, Cell: p.tablet.Cell, Type: p.tablet.Type, Health: p.health, Reason: p.why, Detail: p.detail, Note: p.note}
		if d.Reason == "" && p.health != Healthy && p.health != Degraded {
			// Every exclusion above records its reason; should a new one
			// forget to, the tablet is still listed as getting nothing.
			d.Reason, d.Detail = ReasonDraining, p.health.String()
		}
		byAlias[d.Alias] = d
	}
	out := make([]Decision, 0, len(r.Inputs.Shard.Tablets))
	for _, t := range r.Inputs.Shard.Tablets {
		d, ok := byAlias[t.Alias]
		if !ok {
			d = Decision{Alias: t.Alias, Cell: t.Cell, Type: t.Type, Health: Unhealthy}
			d.Reason, d.Detail = member(r.Class, t)
			if d.Reason == "" {
				d.Reason, d.Detail = ReasonNoPort, "no port_map."+ks.PortName
			}
		}
		out = append(out, d)
	}
	return out
}

// Target is a tablet a client may send requests of the class to.
type Target struct {
	Alias    string  `json:"alias"`
	Cell     string  `json:"cell"`
	Region   string  `json:"region"`
	Zone     string  `json:"zone"`
	Priority uint32  `json:"priority"`
	Health   string  `json:"health"`
	Weight   uint32  `json:"weight"` // the endpoint weight the client gets
	Share    float64 `json:"share"`  // expected share of new requests, 0..1
	Note     string  `json:"note,omitempty"`
}

// Explanation is where one class of requests for one shard goes from one
// client, and why every other tablet of the shard gets nothing.
type Explanation struct {
	Keyspace string     `json:"keyspace"`
	Shard    string     `json:"shard"`
	Class    Class      `json:"class"`
	Kind     ClientKind `json:"kind"`
	Region   string     `json:"region"`
	Zone     string     `json:"zone"`
	Tenant   string     `json:"tenant"`
	Revision int64      `json:"revision"`
	// Targets in priority order, then by share (largest first).
	Targets []Target `json:"targets"`
	// Excluded is every tablet of the shard that gets nothing, with why,
	// in alias order; invalid records that name the shard come last.
	Excluded []Decision `json:"excluded"`
	// Redirect is set when a routing rule or shift sends part of this
	// keyspace's class to another keyspace: the split above is for the
	// part that stays.
	Redirect *Redirect `json:"redirect,omitempty"`
}

// Query asks Explain about one class of one shard of a topology at one
// time, for a client of a locality and kind.
type Query struct {
	Topology *topology.Topology
	Shard    *topology.Shard
	Class    Class
	Client   Locality
	Kind     ClientKind
	Now      time.Time
}

// Explain computes, with the same code as Assign, where a client of the
// request's locality and kind sends requests of the class for the shard,
// with each target's expected share: Envoy's load balancing (TrafficSplit)
// for Envoy, the flattened locality weights for proxyless gRPC. tenant is
// the client's tenant: another tenant's keyspace is not served to it.
func Explain(q Query, tenant string) Explanation {
	topo, now := q.Topology, q.Now
	r := Request{Inputs: Resolve(topo, q.Shard, now), Class: q.Class, Client: q.Client, Kind: q.Kind}
	ks := r.Inputs.Keyspace
	e := Explanation{Keyspace: r.Inputs.Shard.Keyspace, Shard: r.Inputs.Shard.Name, Class: r.Class, Kind: r.Kind,
		Region: r.Client.Region, Zone: r.Client.Zone, Tenant: tenant, Revision: topo.Revision,
		Targets: []Target{}, Excluded: []Decision{}}
	if ks.Tenant != "" && ks.Tenant != tenant {
		for _, t := range r.Inputs.Shard.Tablets {
			e.Excluded = append(e.Excluded, Decision{Alias: t.Alias, Cell: t.Cell, Type: t.Type, Health: Unhealthy,
				Reason: ReasonTenant, Detail: "tenant: keyspace " + ks.Name + " belongs to tenant " + ks.Tenant})
		}
		return e
	}
	if red, ok := RedirectOf(topo, ks.Name, r.Class, now); ok && red.Percent > 0 {
		e.Redirect = &red
	}
	a, decisions := plan(r, true)
	byAlias := make(map[string]Decision, len(decisions))
	for _, d := range decisions {
		byAlias[d.Alias] = d
		if d.Reason != "" {
			e.Excluded = append(e.Excluded, d)
		}
	}
	for _, p := range topo.Problems {
		if p.Shard == (topology.ShardKey{Keyspace: r.Inputs.Shard.Keyspace, Shard: r.Inputs.Shard.Name}) {
			e.Excluded = append(e.Excluded, Decision{Alias: p.Alias(), Reason: ReasonInvalid, Detail: "invalid record: " + p.Err.Error()})
		}
	}
	share := Shares(a, r.Kind)
	for _, l := range a.Localities {
		for _, ep := range l.Endpoints {
			d := byAlias[ep.Alias]
			if d.Reason != "" {
				continue
			}
			cell, _ := topo.CellOf(d.Cell)
			e.Targets = append(e.Targets, Target{Alias: ep.Alias, Cell: d.Cell, Region: cell.Region, Zone: cell.Zone,
				Priority: l.Priority, Health: ep.Health.String(), Weight: ep.Weight, Share: share[ep.Alias], Note: d.Note})
		}
	}
	slices.SortStableFunc(e.Targets, func(x, y Target) int {
		return cmp.Or(cmp.Compare(x.Priority, y.Priority), cmp.Compare(y.Share, x.Share), cmp.Compare(x.Alias, y.Alias))
	})
	return e
}

// Shares is the expected share of new requests of each endpoint of an
// assignment as served to a client of the kind: Envoy's load balancing
// for Envoy (EnvoySplit); for gRPC, which weighs priority 0's localities
// and uses later priorities only when all of P0 fails, P0's locality
// weights (flattenForGRPC put each tablet's share there).
func Shares(a Assignment, kind ClientKind) map[string]float64 {
	if kind != KindGRPC {
		return EnvoySplit(a)
	}
	total := 0.0
	for _, l := range a.Localities {
		if l.Priority == 0 {
			total += float64(l.Weight)
		}
	}
	out := map[string]float64{}
	for _, l := range a.Localities {
		if l.Priority != 0 || total == 0 {
			continue
		}
		for _, e := range l.Endpoints {
			out[e.Alias] += math.Round(float64(l.Weight)/total*1e6) / 1e6
		}
	}
	return out
}
