package weights

// Overprovisioning is Envoy's default overprovisioning factor (1.4): a
// priority or locality counts as fully available while at least 1/1.4 ≈ 71 %
// of its hosts are healthy.
const Overprovisioning = 1.4

// TrafficSplit returns the share of new requests (summing to 1, or empty
// when nothing can take traffic) that each endpoint of an assignment gets
// under Envoy's documented load balancing:
//
//   - priority health = min(1, Overprovisioning × usable hosts / hosts);
//     priority load cascades from P0, each level taking its health of what
//     is left, scaled up when the levels' health sums to less than 1;
//   - within a priority, a locality's effective weight is its
//     load_balancing_weight × min(1, Overprovisioning × usable fraction);
//   - within a locality, weighted round robin over its usable endpoints.
//
// usable says which endpoints take requests, weightOf gives their weight.
func TrafficSplit(a Assignment, usable func(Endpoint) bool, weightOf func(Endpoint) uint32) map[string]float64 {
	type level struct {
		health     float64
		localities []LocalityEndpoints
	}
	var levels []level
	for _, l := range a.Localities {
		for int(l.Priority) >= len(levels) {
			levels = append(levels, level{})
		}
		levels[l.Priority].localities = append(levels[l.Priority].localities, l)
	}
	total := 0.0
	for i := range levels {
		up, all := 0, 0
		for _, l := range levels[i].localities {
			for _, e := range l.Endpoints {
				all++
				if usable(e) {
					up++
				}
			}
		}
		if all > 0 {
			levels[i].health = min(1, Overprovisioning*float64(up)/float64(all))
		}
		total += levels[i].health
	}
	out := map[string]float64{}
	if total == 0 {
		return out
	}
	norm := min(1, total)
	left := 1.0
	for _, lv := range levels {
		load := min(left, lv.health/norm)
		left -= load
		if load <= 0 {
			continue
		}
		var eff []float64
		sum := 0.0
		for _, l := range lv.localities {
			up, all := 0, len(l.Endpoints)
			for _, e := range l.Endpoints {
				if usable(e) {
					up++
				}
			}
			w := 0.0
			if all > 0 {
				w = float64(l.Weight) * min(1, Overprovisioning*float64(up)/float64(all))
			}
			eff = append(eff, w)
			sum += w
		}
		for i, l := range lv.localities {
			if eff[i] == 0 {
				continue
			}
			var weights uint64
			for _, e := range l.Endpoints {
				if usable(e) {
					weights += uint64(weightOf(e))
				}
			}
			for _, e := range l.Endpoints {
				if usable(e) {
					out[e.Alias] += load * eff[i] / sum * float64(weightOf(e)) / float64(weights)
				}
			}
		}
	}
	return out
}

// EnvoySplit is the split Envoy makes of an assignment served to an Envoy
// node group: only HEALTHY endpoints take requests while any exist (DEGRADED
// ones are used only when healthy hosts run short, which this does not
// model), by their endpoint weights.
func EnvoySplit(a Assignment) map[string]float64 {
	return TrafficSplit(a, func(e Endpoint) bool { return e.Health == Healthy }, func(e Endpoint) uint32 { return e.Weight })
}
