package weights

import (
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// Redirect is where part of a keyspace's traffic of one class goes: Percent
// of it to ToKeyspace's shards, the rest stays.
type Redirect struct {
	ToKeyspace string
	Percent    uint32 // 0..100
	Shift      string // the shift in force, "" for a routing rule
	Status     string // "rule", "step i of n", "paused", "aborted", "rolled back: ..."
}

// RedirectOf returns where a class of a keyspace's traffic goes at now:
//
//   - a keyspace routing rule for the keyspace and the class's tablet type
//     (or for all types) sends all of it to the rule's target;
//   - else a shift of that keyspace and tablet type sends its current
//     step's percentage; an aborted shift sends none, and so does a shift
//     whose target has less than rollback_below_percent of its tablets of
//     the type eligible (automatic rollback, back as soon as it recovers);
//   - a target of another tenant is never used.
//
// read-after-write follows the primary's redirect. When several shifts
// match, the first by name applies.
func RedirectOf(topo *topology.Topology, keyspace string, c Class, now time.Time) (Redirect, bool) {
	typ := tabletTypeOf(c)
	tenant := ""
	if src, ok := topo.Keyspaces[keyspace]; ok {
		tenant = src.Tenant
	}
	sameTenant := func(to string) bool {
		dst, ok := topo.Keyspaces[to]
		return ok && dst.Tenant == tenant
	}
	for _, r := range topo.Rules {
		if r.FromKeyspace == keyspace && (r.TabletType == "" || r.TabletType == typ) && sameTenant(r.ToKeyspace) {
			return Redirect{ToKeyspace: r.ToKeyspace, Percent: 100, Status: "rule"}, true
		}
	}
	names := make([]string, 0, len(topo.Shifts))
	for n, s := range topo.Shifts {
		if s.Keyspace == keyspace && s.TabletType == typ {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return Redirect{}, false
	}
	sort.Strings(names)
	s := topo.Shifts[names[0]]
	if !sameTenant(s.ToKeyspace) {
		return Redirect{}, false
	}
	r := Redirect{ToKeyspace: s.ToKeyspace, Shift: s.Name}
	step := s.Step(now)
	switch {
	case s.Aborted:
		r.Status = "aborted"
	case step < 0:
		r.Status = "not started"
	default:
		r.Percent = s.Steps[step]
		r.Status = "step " + itoa(step+1) + " of " + itoa(len(s.Steps))
		if !s.PausedAt.IsZero() {
			r.Status += ", paused"
		}
		if pct := EligiblePercent(topo, s.ToKeyspace, typ, now); pct < s.RollbackBelowPercent {
			r.Percent = 0
			r.Status = "rolled back: " + itoa(int(pct)) + "% of the target's " + string(typ) + " tablets eligible, below " + itoa(int(s.RollbackBelowPercent)) + "%"
		}
	}
	return r, true
}

// EligiblePercent is the share of a keyspace's tablets of a type that may
// take traffic: for primaries, the share of shards with a serving primary.
func EligiblePercent(topo *topology.Topology, keyspace string, typ topology.TabletType, now time.Time) uint32 {
	ks, ok := topo.Keyspaces[keyspace]
	if !ok {
		return 0
	}
	var up, all int
	for _, s := range topo.ShardsOf(keyspace) {
		var vs []verdict
		if typ == topology.TypePrimary {
			vs = primaries(ks, s)
			all++
			if slices.ContainsFunc(vs, func(v verdict) bool { return v.health == Healthy }) {
				up++
			}
			continue
		}
		for _, v := range readers(ks, s, typ, now) {
			all++
			if v.health == Healthy || v.health == Degraded {
				up++
			}
		}
	}
	if all == 0 {
		return 0
	}
	return uint32(100 * up / all)
}

// NextShiftChange returns when the next shift step starts, if any.
func NextShiftChange(topo *topology.Topology, now time.Time) (next time.Time, ok bool) {
	for _, s := range topo.Shifts {
		if at, has := s.NextStep(now); has && (!ok || at.Before(next)) {
			next, ok = at, true
		}
	}
	return next, ok
}

func itoa(i int) string { return strconv.Itoa(i) }
