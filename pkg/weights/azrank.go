package weights

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// CellRank is one cell's standing for a shard.
type CellRank struct {
	Cell             string        `json:"cell"`
	Region           string        `json:"region"`
	Zone             string        `json:"zone"`
	EligibleCapacity uint32        `json:"eligible_capacity"` // sum of eligible replica weights
	Replicas         int           `json:"replicas"`
	Eligible         int           `json:"eligible"`
	Errors           int           `json:"errors"`  // tablets NOT_SERVING or with a health error
	MaxLag           time.Duration `json:"max_lag"` // of eligible replicas
	HasPrimary       bool          `json:"has_primary"`
	Drained          bool          `json:"drained"`
}

// MarshalJSON writes max_lag as a duration string ("1.5s"), as the
// admin API writes every duration.
func (r CellRank) MarshalJSON() ([]byte, error) {
	type plain CellRank
	return json.Marshal(struct {
		plain
		MaxLag string `json:"max_lag"`
	}{plain(r), r.MaxLag.String()})
}

// AZRanking ranks a shard's cells for a zonal reparent and names the
// replica a PlannedReparentShard should promote.
type AZRanking struct {
	Shard     string     `json:"shard"`
	Cells     []CellRank `json:"cells"` // best first
	Primary   string     `json:"primary,omitempty"`
	Candidate string     `json:"candidate,omitempty"` // "" when the primary's cell is already the best, or none fits
	Advice    string     `json:"advice"`
}

// RankCells ranks the cells of a shard by eligible replica capacity, then
// fewest error signals, then lowest replication lag (drained cells last),
// and names the replica a PlannedReparentShard should promote to move the
// primary to the healthiest cell: its least-lagged eligible semi-sync
// replica. It is advice only; the control plane does not reparent.
func RankCells(topo *topology.Topology, s *topology.Shard, now time.Time) AZRanking {
	ks, ok := topo.Keyspaces[s.Keyspace]
	if !ok {
		ks = topology.DefaultKeyspace(s.Keyspace)
	}
	out := AZRanking{Shard: s.Keyspace + "/" + s.Name}
	byCell := map[string]*CellRank{}
	rank := func(cell string) *CellRank {
		r := byCell[cell]
		if r == nil {
			c, _ := topo.CellOf(cell)
			_, drained := topo.Overrides.Drains[cell]
			r = &CellRank{Cell: cell, Region: c.Region, Zone: c.Zone, Drained: drained}
			byCell[cell] = r
		}
		return r
	}
	for _, v := range primaries(ks, s) {
		if v.health == Healthy {
			rank(v.tablet.Cell).HasPrimary = true
			out.Primary = v.tablet.Alias
		}
	}
	eligible := map[string]verdict{}
	for _, v := range readers(ks, s, topology.TypeReplica, rampStepsAt(ks, s, now)) {
		r := rank(v.tablet.Cell)
		r.Replicas++
		if v.tablet.State == topology.StateNotServing || v.tablet.HealthError != "" {
			r.Errors++
		}
		if v.health == Healthy || v.health == Degraded {
			r.Eligible++
			r.EligibleCapacity += v.tablet.Weight
			r.MaxLag = max(r.MaxLag, v.tablet.ReplicationLag)
			eligible[v.tablet.Alias] = v
		}
	}
	for _, r := range byCell {
		out.Cells = append(out.Cells, *r)
	}
	slices.SortFunc(out.Cells, func(a, b CellRank) int {
		return cmp.Or(boolCmp(a.Drained, b.Drained), cmp.Compare(b.EligibleCapacity, a.EligibleCapacity),
			cmp.Compare(a.Errors, b.Errors), cmp.Compare(a.MaxLag, b.MaxLag), cmp.Compare(a.Cell, b.Cell))
	})
	if len(out.Cells) == 0 {
		out.Advice = "no tablets"
		return out
	}
	best := out.Cells[0]
	if best.HasPrimary {
		out.Advice = "the primary is already in the healthiest cell " + best.Cell
		return out
	}
	var pick *verdict
	for _, v := range eligible {
		if v.tablet.Cell != best.Cell {
			continue
		}
		if pick == nil || candidateLess(v, *pick) {
			v := v
			pick = &v
		}
	}
	if pick == nil {
		out.Advice = "no eligible replica in the healthiest cell " + best.Cell
		return out
	}
	out.Candidate = pick.tablet.Alias
	out.Advice = "PlannedReparentShard --new-primary " + pick.tablet.Alias + " moves the primary to " + best.Cell
	return out
}

// candidateLess prefers semi-sync replicas, then the least lagged, then
// the alias order.
func candidateLess(a, b verdict) bool {
	as, bs := a.tablet.Replication == topology.ReplicationSemiSync, b.tablet.Replication == topology.ReplicationSemiSync
	if as != bs {
		return as
	}
	if a.tablet.ReplicationLag != b.tablet.ReplicationLag {
		return a.tablet.ReplicationLag < b.tablet.ReplicationLag
	}
	return a.tablet.Alias < b.tablet.Alias
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
