package weights

import "math"

// splitScale turns traffic shares into integer locality weights with a
// resolution of one in a million.
const splitScale = 1e6

// flattenForGRPC re-encodes an Envoy-form assignment for proxyless gRPC,
// which uses only HEALTHY endpoints, moves to priority P+1 only when all of
// P is unusable, ignores overprovisioning and ignores endpoint weights
// under round_robin — but honours locality weights. So:
//
//   - priority 0 holds every tablet that Envoy would send traffic to, each
//     in a locality of its own (sub_zone = tablet alias) whose weight is
//     the tablet's share of traffic under Envoy's rules, computed with the
//     policy's weights (lag and ramp included, DEGRADED counted as usable):
//     proportional spill, ramps and lag all become locality weights, which
//     gRPC honours under any endpoint picking policy;
//   - usable tablets that get no share (lower priorities while P0 is
//     healthy enough) follow in later priorities in their original order,
//     so gRPC still fails over when P0's connections fail;
//   - unusable tablets are left out: gRPC would ignore them anyway.
func flattenForGRPC(a Assignment, policy map[string]uint32) Assignment {
	usable := func(e Endpoint) bool { return e.Health == Healthy || e.Health == Degraded }
	split := TrafficSplit(a, usable, func(e Endpoint) uint32 { return policy[e.Alias] })
	var out Assignment
	next := map[uint32]uint32{} // original priority -> flattened priority for unused tablets
	for _, l := range a.Localities {
		for _, e := range l.Endpoints {
			if !usable(e) {
				continue
			}
			e.Health, e.Weight = Healthy, policy[e.Alias]
			one := LocalityEndpoints{Region: l.Region, Zone: l.Zone, Cell: e.Alias, Endpoints: []Endpoint{e}}
			if share := split[e.Alias]; share > 0 {
				one.Weight = max(1, uint32(math.Round(share*splitScale)))
			} else {
				p, ok := next[l.Priority]
				if !ok {
					p = uint32(len(next)) + 1
					next[l.Priority] = p
				}
				one.Priority, one.Weight = p, e.Weight
			}
			out.Localities = append(out.Localities, one)
		}
	}
	sortLocalities(out.Localities)
	return out
}
