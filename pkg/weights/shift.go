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
	ToKeyspace string `json:"to_keyspace"`
	Percent    uint32 `json:"percent"`         // 0..100
	Shift      string `json:"shift,omitempty"` // the shift in force, "" for a routing rule
	Status     string `json:"status"`          // "rule", "step i of n", "paused", "aborted", "rolled back: ..."
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
	s := shiftOf(topo, keyspace, typ, false)
	if s == nil || !sameTenant(s.ToKeyspace) {
		return Redirect{}, false
	}
	r := progress(topo, s, s.ToKeyspace, typ, now)
	r.ToKeyspace = s.ToKeyspace
	return r, true
}

// shiftOf returns the shift of a keyspace's tablet type, between cells or
// to another keyspace; when several match, the first by name.
func shiftOf(topo *topology.Topology, keyspace string, typ topology.TabletType, cells bool) *topology.Shift {
	names := make([]string, 0, len(topo.Shifts))
	for n, s := range topo.Shifts {
		if s.Keyspace == keyspace && s.TabletType == typ && (s.ToCell != "") == cells {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	return topo.Shifts[names[0]]
}

// progress is a shift's percentage and status at now. target is the
// keyspace whose eligible capacity decides a rollback.
func progress(topo *topology.Topology, s *topology.Shift, target string, typ topology.TabletType, now time.Time) Redirect {
	r := Redirect{Shift: s.Name}
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
		if pct := targetEligible(topo, s, target, typ, now); pct < s.RollbackBelowPercent {
			r.Percent = 0
			r.Status = "rolled back: " + itoa(int(pct)) + "% of the target's " + string(typ) + " tablets eligible, below " + itoa(int(s.RollbackBelowPercent)) + "%"
		}
	}
	return r
}

// targetEligible is the share of a shift target's tablets that are
// eligible: the target keyspace's, or the target cell's in the keyspace.
func targetEligible(topo *topology.Topology, s *topology.Shift, target string, typ topology.TabletType, now time.Time) uint32 {
	if s.ToCell == "" {
		return eligiblePercent(topo, target, typ, now, func(*topology.Tablet) bool { return true })
	}
	return eligiblePercent(topo, s.Keyspace, typ, now, func(t *topology.Tablet) bool { return t.Cell == s.ToCell })
}

// eligiblePercent is the share of a keyspace's tablets of a type that keep
// accepts and that may take traffic: for primaries, the share of shards
// with a serving primary.
func eligiblePercent(topo *topology.Topology, keyspace string, typ topology.TabletType, now time.Time, keep func(*topology.Tablet) bool) uint32 {
	ks, ok := topo.Keyspaces[keyspace]
	if !ok {
		return 0
	}
	var up, all int
	for _, s := range topo.ShardsOf(keyspace) {
		if typ == topology.TypePrimary {
			all++
			if slices.ContainsFunc(primaries(ks, s), func(v verdict) bool { return v.health == Healthy && keep(v.tablet) }) {
				up++
			}
			continue
		}
		for _, v := range readers(ks, s, typ, rampStepsAt(ks, s, now)) {
			if !keep(v.tablet) {
				continue
			}
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

// shiftCells moves pct percent of the reads that would go to cell from to
// cell to: from's tablets keep (100 - pct) percent of their weight (and are
// Draining at 100), and to's tablets gain weight equal to the part from
// gave up. When to is in a later tier than from, it joins from's tier, so
// that the moved share reaches it rather than only spilled traffic; at 100
// percent from's tablets are Draining and the two cells swap tiers, so that
// from's clients read from to first, whatever their other tiers hold.
func shiftCells(all []placed, s CellShift) {
	from, to, pct := s.From, s.To, s.Percent
	var capFrom, capTo uint64
	fromTier, toTier := tier{rank: rankNone}, tier{rank: rankNone}
	usable := func(p placed) bool { return p.health == Healthy || p.health == Degraded }
	for _, p := range all {
		switch {
		case p.cell.Name == from && usable(p):
			capFrom += uint64(p.envoy)
			fromTier = p.tier
		case p.cell.Name == to && usable(p):
			capTo += uint64(p.envoy)
			toTier = p.tier
		}
	}
	if capFrom == 0 || capTo == 0 {
		return // nothing to move, or nowhere to move it
	}
	// At 100% from's tablets are Draining and to keeps its own weight.
	promote := toTier.compare(fromTier) > 0
	moved := capFrom * uint64(pct) / 100
	target := capTo + moved
	switch {
	case pct >= 100:
		target = capTo
	case promote:
		target = moved // in from's tier, to takes only what from gave up
	}
	for i := range all {
		p := &all[i]
		switch {
		case p.cell.Name == from && usable(*p):
			if pct >= 100 {
				p.health = Draining
				if promote {
					p.tier = toTier // to takes from's place: from's clients go to to first
				}
				p.why, p.detail = ReasonShifted, "shift "+s.Name+" moved the reads of cell "+from+" to "+to
				continue
			}
			p.weight, p.envoy = scale(p.weight, 100-pct), scale(p.envoy, 100-pct)
			p.note = "shift " + s.Name + ": " + itoa(int(pct)) + "% of cell " + from + "'s reads moved to " + to
		case p.cell.Name == to && usable(*p):
			p.weight = max(1, uint32(uint64(p.weight)*target/capTo))
			p.envoy = max(1, uint32(uint64(p.envoy)*target/capTo))
			if promote {
				p.tier = fromTier
			}
		}
	}
}

// ShiftProgress is a shift's percentage and status at now, rollback
// included, as the control plane applies it.
func ShiftProgress(topo *topology.Topology, s *topology.Shift, now time.Time) Redirect {
	r := progress(topo, s, s.ToKeyspace, s.TabletType, now)
	r.ToKeyspace = s.ToKeyspace
	return r
}
