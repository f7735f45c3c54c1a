package weights

import (
	"cmp"
	"slices"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// placed is a verdict with its place relative to the client.
type placed struct {
	verdict
	tier     tier
	cell     topology.Cell
	draining bool // its cell is being drained and still takes some reads
}

// Request is what an assignment is computed for: one class of one shard,
// for a client, from the shard's inputs at one time (see Resolve).
type Request struct {
	Inputs ShardInputs
	Class  Class
	Client Locality
	Kind   ClientKind
	MySQL  bool // address tablets on their MySQL port instead of the keyspace's port_name
}

// Assign computes the prioritized, weighted endpoints of one class of one
// shard for a client. It is a pure function of the request, and reads
// nothing of the topology or the time but the request's inputs.
//
// For Envoy the assignment is the policy itself: priorities relative to the
// client, every tablet with its health status, locality weights equal to
// the localities' capacity; Envoy spills load between priorities and
// localities in proportion to health. Proxyless gRPC does none of that
// (see flattenForGRPC), so its assignment is derived from Envoy's.
func Assign(r Request) Assignment {
	a, _ := plan(r, false)
	return a
}

// plan is Assign that, when explain is set, also returns the decision on
// every tablet of the shard, in the shard's alias order, for Explain: the
// one code path that builds the resources also says why a tablet gets
// nothing. Without explain it lists no decisions (building them costs
// more than the assignment).
func plan(r Request, explain bool) (Assignment, []Decision) {
	ks, shard, env := r.Inputs.Keyspace, r.Inputs.Shard, r.Inputs.Env
	if r.MySQL {
		mysql := *ks
		mysql.PortName = ks.MySQLPortName
		ks = &mysql
	}
	var all []placed
	var left []Decision // tablets the policy forbids for this client
	place := func(vs []verdict, first bool) {
		for _, v := range vs {
			cell, known := env.cell(v.tablet.Cell)
			t, ok := tierOf(ks, r.Client, cell, known)
			p := placed{verdict: v, cell: cell}
			switch {
			case r.Class == ClassPrimary:
				t = tier{rank: rankZone}
			case first:
				t = tier{rank: rankPrimary}
			case !ok && !explain:
				continue
			case !ok:
				left = append(left, Decision{Alias: v.tablet.Alias, Cell: cell.Name, Type: v.tablet.Type, Health: Unhealthy,
					Reason: ReasonRegion, Detail: "region " + cell.Region + ": failover.cross_region is off"})
				continue
			default:
				if env.Prefer == cell.Name {
					t = tier{rank: rankPreferred}
				}
				p.draining = drain(&p.verdict, env.Drains, cell.Name)
			}
			p.tier = t
			all = append(all, p)
		}
	}
	switch r.Class {
	case ClassPrimary:
		place(primaries(ks, shard), true)
	case ClassReadAfterWrite:
		place(primaries(ks, shard), true)
		place(semiSyncReaders(ks, shard), false)
	default:
		place(readers(ks, shard, tabletTypeOf(r.Class), env.rampStep), false)
	}
	if i, ok := shiftIndex(tabletTypeOf(r.Class)); ok && r.Class != ClassReadAfterWrite {
		if s := env.Shifts[i]; s.Percent > 0 {
			shiftCells(all, s)
		}
	}
	// A cell being drained joins the first tier of the cells that are not,
	// so that its reduced weight moves traffic to them gradually (Envoy and
	// gRPC both split a priority's traffic by locality weight).
	best := tier{rank: rankNone}
	for _, p := range all {
		if !p.draining && p.tier.rank != rankPrimary && p.tier.compare(best) < 0 {
			best = p.tier
		}
	}
	for i := range all {
		if all[i].draining && best.rank != rankNone && all[i].tier.compare(best) < 0 {
			all[i].tier = best
		}
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
	policy := make(map[string]uint32, len(all)) // alias -> the weight the policy wants
	for _, p := range all {
		k := localityKey{priority[p.tier], p.cell.Name}
		l := byLocality[k]
		if l == nil {
			l = &LocalityEndpoints{Region: p.cell.Region, Zone: p.cell.Zone, Cell: p.cell.Name, Priority: k.priority}
			byLocality[k] = l
		}
		l.Endpoints = append(l.Endpoints, Endpoint{Alias: p.tablet.Alias, Host: p.tablet.Hostname, Port: p.port, Health: p.health, Weight: p.envoy})
		policy[p.tablet.Alias] = p.weight
	}
	var a Assignment
	for _, l := range byLocality {
		for _, e := range l.Endpoints {
			l.Weight += e.Weight
		}
		l.Weight = max(1, l.Weight)
		slices.SortFunc(l.Endpoints, func(x, y Endpoint) int { return cmp.Compare(x.Alias, y.Alias) })
		a.Localities = append(a.Localities, *l)
	}
	sortLocalities(a.Localities)
	var decisions []Decision
	if explain {
		decisions = decide(ks, r, all, left)
	}
	if r.Kind == KindGRPC {
		return flattenForGRPC(a, policy), decisions
	}
	return a, decisions
}

func sortLocalities(ls []LocalityEndpoints) {
	slices.SortFunc(ls, func(x, y LocalityEndpoints) int {
		return cmp.Or(cmp.Compare(x.Priority, y.Priority), cmp.Compare(x.Region, y.Region),
			cmp.Compare(x.Zone, y.Zone), cmp.Compare(x.Cell, y.Cell))
	})
}
