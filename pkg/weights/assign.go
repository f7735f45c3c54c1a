package weights

import (
	"cmp"
	"slices"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// Request is what an assignment is computed for.
type Request struct {
	Topology *topology.Topology
	Shard    *topology.Shard
	Class    Class
	Client   Locality
	Kind     ClientKind
	Now      time.Time
}

// Assign computes the prioritized, weighted endpoints of one class of one
// shard for a client. It is a pure function of the request.
func Assign(r Request) Assignment {
	ks, ok := r.Topology.Keyspaces[r.Shard.Keyspace]
	if !ok {
		ks = topology.DefaultKeyspace(r.Shard.Keyspace)
	}
	type placed struct {
		verdict
		tier tier
		cell topology.Cell
	}
	var all []placed
	place := func(vs []verdict, first bool) {
		for _, v := range vs {
			cell, known := r.Topology.CellOf(v.tablet.Cell)
			t, ok := tierOf(ks, r.Client, cell, known)
			switch {
			case r.Class == ClassPrimary:
				t = tier{rank: rankZone}
			case first:
				t = tier{rank: rankPrimary}
			case !ok:
				continue
			}
			all = append(all, placed{verdict: v, tier: t, cell: cell})
		}
	}
	switch r.Class {
	case ClassPrimary:
		place(primaries(ks, r.Shard), true)
	case ClassReadAfterWrite:
		place(primaries(ks, r.Shard), true)
		place(semiSyncReaders(ks, r.Shard), false)
	default:
		place(readers(ks, r.Shard, tabletTypeOf(r.Class)), false)
	}

	tiers := make([]tier, len(all))
	for i, p := range all {
		tiers[i] = p.tier
	}
	priority := numberTiers(tiers)

	type localityKey struct {
		priority uint32
		cell     string
	}
	byLocality := map[localityKey]*LocalityEndpoints{}
	for _, p := range all {
		k := localityKey{priority[p.tier], p.cell.Name}
		l := byLocality[k]
		if l == nil {
			l = &LocalityEndpoints{Region: p.cell.Region, Zone: p.cell.Zone, Cell: p.cell.Name, Priority: k.priority}
			byLocality[k] = l
		}
		l.Endpoints = append(l.Endpoints, encode(p.verdict, r.Kind))
	}
	var a Assignment
	for _, l := range byLocality {
		l.Weight = localityWeight(l.Endpoints, r.Kind)
		slices.SortFunc(l.Endpoints, func(x, y Endpoint) int { return cmp.Compare(x.Alias, y.Alias) })
		a.Localities = append(a.Localities, *l)
	}
	slices.SortFunc(a.Localities, func(x, y LocalityEndpoints) int {
		return cmp.Or(cmp.Compare(x.Priority, y.Priority), cmp.Compare(x.Region, y.Region),
			cmp.Compare(x.Zone, y.Zone), cmp.Compare(x.Cell, y.Cell))
	})
	return a
}

// encode turns a verdict into an endpoint for a client kind. Proxyless gRPC
// drops DEGRADED endpoints entirely, so for it an eligible but lagging
// tablet is Healthy with its already reduced weight; Envoy gets Degraded
// with the tablet's full weight and uses it only when healthy hosts run
// short.
func encode(v verdict, kind ClientKind) Endpoint {
	e := Endpoint{Alias: v.tablet.Alias, Host: v.tablet.Hostname, Port: v.port, Health: v.health, Weight: v.weight}
	if v.health == Degraded {
		if kind == KindGRPC {
			e.Health = Healthy
		} else {
			e.Weight = v.tablet.Weight
		}
	}
	return e
}

// localityWeight is a locality's load_balancing_weight. Envoy scales a
// locality's weight by the share of its hosts that are healthy, so it gets
// the locality's full capacity; gRPC does no such scaling, so it gets the
// capacity that can take requests. Either way the weight is ≥ 1, because
// gRPC drops localities without one.
func localityWeight(eps []Endpoint, kind ClientKind) uint32 {
	var sum uint32
	for _, e := range eps {
		if kind == KindEnvoy || e.Health == Healthy || e.Health == Degraded {
			sum += e.Weight
		}
	}
	return max(1, sum)
}
