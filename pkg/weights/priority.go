package weights

import (
	"cmp"
	"slices"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// tier orders localities relative to a client before priorities are
// numbered. Tiers compare by rank, then order, then region name.
type tier struct {
	rank   int // see the rank constants
	order  int // position in failover.region_order, for rankOrdered
	region string
}

const (
	rankPrimary   = iota // read-after-write: the primary before any replica
	rankPreferred        // the keyspace's preferred cell (an operator override)
	rankZone             // the client's zone
	rankRegion           // the client's region, other zones
	rankOrdered          // other regions named in failover.region_order
	rankOther            // other regions, by name
	rankNoCell           // tablets in cells the topology does not know
	rankNone             // no tier yet
)

func (a tier) compare(b tier) int {
	return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.order, b.order), cmp.Compare(a.region, b.region))
}

// tierOf places a cell relative to the client. ok is false when the policy
// forbids the cell for this client (another region with cross_region off).
func tierOf(ks *topology.Keyspace, client Locality, cell topology.Cell, known bool) (t tier, ok bool) {
	switch {
	case client == Locality{}:
		return tier{rank: rankZone}, true
	case !known && !ks.Failover.CrossRegion:
		return tier{}, false // its region is unknown, so it may be remote
	case !known:
		return tier{rank: rankNoCell}, true
	case cell.Zone == client.Zone && (client.Region == "" || cell.Region == client.Region):
		return tier{rank: rankZone}, true
	case cell.Region == client.Region:
		return tier{rank: rankRegion}, true
	case !ks.Failover.CrossRegion:
		return tier{}, false
	}
	if i := slices.Index(ks.Failover.RegionOrder[client.Region], cell.Region); i >= 0 {
		return tier{rank: rankOrdered, order: i}, true
	}
	return tier{rank: rankOther, region: cell.Region}, true
}

// numberTiers maps the distinct tiers in use to contiguous priorities from 0.
func numberTiers(used []tier) map[tier]uint32 {
	slices.SortFunc(used, tier.compare)
	used = slices.CompactFunc(used, func(a, b tier) bool { return a.compare(b) == 0 })
	out := make(map[tier]uint32, len(used))
	for i, t := range used {
		out[t] = uint32(i)
	}
	return out
}
