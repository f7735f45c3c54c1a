package app

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/topowatch"
	"github.com/shardmesh/shardmesh/pkg/weights"
	"github.com/shardmesh/shardmesh/pkg/xdsserver"
)

// statusPage is what the status page shows: the fleet as a matrix of
// shards × cells, the overrides and shifts in force, invalid records,
// connected node groups, and the expected traffic shares of one client
// locality.
type statusPage struct {
	Revision    int64
	Source      topowatch.Health
	SourceSince string // when the source last connected or disconnected, UTC
	Client      weights.Locality
	Kind        weights.ClientKind
	Keyspace    string // the keyspace shown, "" for all
	Keyspaces   []string
	Localities  []weights.Locality
	Cells       []topology.Cell
	Shards      []shardRow
	Drains      []string
	Shifts      []string
	Problems    []problemView
	Groups      []groupView
}

type shardRow struct {
	Name     string // keyspace/shard
	Primary  string // the serving primary, "" when none
	Term     string // its primary_term_start
	Tenant   string
	Cells    [][]tabletView // aligned with statusPage.Cells
	Invalid  []problemView  // invalid records naming the shard
	NoTarget []string       // classes with no eligible tablet for the client
}

type tabletView struct {
	Alias    string
	Type     string
	State    string
	Lag      string
	Schema   string
	Eligible bool
	Share    string // expected share of its class's requests for the client
	Why      string // why it gets nothing, in words
	Note     string
}

type groupView struct {
	Group   string
	Streams int
	Delta   int
	Nack    string // the latest NACK error of a stream of the group, if any
}

// buildStatus assembles the status page for a client locality and kind
// from the topology in force, with weights.Explain for the shares.
// statusQuery is what the page shows: shares for a client of this
// locality and kind, and the shards of one keyspace ("" for all).
type statusQuery struct {
	Client   weights.Locality
	Kind     weights.ClientKind
	Keyspace string
}

func buildStatus(topo *topology.Topology, health topowatch.Health, nodes []xdsserver.NodeStatus, q statusQuery, now time.Time) statusPage {
	client, kind := q.Client, q.Kind
	p := statusPage{Source: health, Client: client, Kind: kind, Keyspace: q.Keyspace}
	if !health.Since.IsZero() {
		p.SourceSince = health.Since.UTC().Format(time.TimeOnly)
	}
	p.Groups = groups(nodes)
	if topo == nil {
		return p
	}
	p.Revision = topo.Revision
	for _, c := range topo.Cells {
		p.Cells = append(p.Cells, c)
		if l := (weights.Locality{Region: c.Region, Zone: c.Zone}); !slices.Contains(p.Localities, l) {
			p.Localities = append(p.Localities, l)
		}
	}
	slices.SortFunc(p.Cells, func(a, b topology.Cell) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Name, b.Name))
	})
	slices.SortFunc(p.Localities, func(a, b weights.Locality) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Zone, b.Zone))
	})
	// Tablets naming a cell without a record get a column of their own
	// at the end: they route as tablets of no locality.
	var unknown []string
	for _, s := range topo.Shards {
		for _, t := range s.Tablets {
			if _, ok := topo.Cells[t.Cell]; !ok && !slices.Contains(unknown, t.Cell) {
				unknown = append(unknown, t.Cell)
			}
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		p.Cells = append(p.Cells, topology.Cell{Name: name, Region: "no cell record", Zone: "-"})
	}
	p.Keyspaces = topo.KeyspaceNames()
	for _, ks := range p.Keyspaces {
		if q.Keyspace != "" && ks != q.Keyspace {
			continue
		}
		for _, s := range topo.ShardsOf(ks) {
			p.Shards = append(p.Shards, shardStatus(topo, s, p.Cells, client, kind, now))
		}
	}
	for _, cell := range sortedKeys(topo.Overrides.Drains) {
		d := topo.Overrides.Drains[cell]
		step := d.Step(now, weights.RampSteps)
		line := fmt.Sprintf("cell %s: draining, step %d of %d", cell, step+1, weights.RampSteps)
		if step >= weights.RampSteps {
			line = "cell " + cell + ": drained"
		}
		if d.Reason != "" {
			line += " (" + d.Reason + ")"
		}
		p.Drains = append(p.Drains, line)
	}
	for _, name := range sortedKeys(topo.Shifts) {
		s := topo.Shifts[name]
		r := weights.ShiftProgress(topo, s, now)
		to := "keyspace " + s.ToKeyspace
		if s.ToCell != "" {
			to = "cell " + s.FromCell + " → " + s.ToCell
		}
		p.Shifts = append(p.Shifts, fmt.Sprintf("%s: %s %s → %s, %d%% (%s)", name, s.Keyspace, s.TabletType, to, r.Percent, r.Status))
	}
	for _, pr := range topo.Problems {
		p.Problems = append(p.Problems, problemView{pr.Key, pr.Err.Error()})
	}
	return p
}

func shardStatus(topo *topology.Topology, s *topology.Shard, cells []topology.Cell, client weights.Locality, kind weights.ClientKind, now time.Time) shardRow {
	ks := topo.Keyspaces[s.Keyspace]
	row := shardRow{Name: s.Keyspace + "/" + s.Name, Cells: make([][]tabletView, len(cells))}
	if ks != nil {
		row.Tenant = ks.Tenant
	}
	byClass := map[weights.Class]weights.Explanation{}
	for _, c := range weights.Classes {
		x := weights.Explain(weights.Query{Topology: topo, Shard: s, Class: c, Client: client, Kind: kind, Now: now}, row.Tenant)
		byClass[c] = x
		if len(x.Targets) == 0 && slices.ContainsFunc(s.Tablets, func(t *topology.Tablet) bool { return t.Type == classType(c) }) {
			row.NoTarget = append(row.NoTarget, string(c))
		}
		if c == weights.ClassPrimary && len(x.Targets) > 0 {
			row.Primary = x.Targets[0].Alias
		}
		for _, d := range x.Excluded {
			if d.Reason == weights.ReasonInvalid && c == weights.ClassPrimary {
				row.Invalid = append(row.Invalid, problemView{d.Alias, strings.TrimPrefix(d.Detail, "invalid record: ")})
			}
		}
	}
	for _, t := range s.Tablets {
		if t.Alias == row.Primary {
			row.Term = t.PrimaryTermStart.Format(time.RFC3339)
		}
		v := tabletView{Alias: t.Alias, Type: string(t.Type), State: string(t.State), Lag: t.ReplicationLag.String(), Schema: t.SchemaVersion}
		if c, ok := weights.ParseClass(string(t.Type)); ok {
			x := byClass[c]
			for _, tg := range x.Targets {
				if tg.Alias == t.Alias {
					v.Eligible, v.Share, v.Note = true, fmt.Sprintf("%.0f%%", 100*tg.Share), tg.Note
				}
			}
			for _, d := range x.Excluded {
				if d.Alias == t.Alias {
					v.Why = d.Detail
				}
			}
		}
		i := slices.IndexFunc(cells, func(c topology.Cell) bool { return c.Name == t.Cell })
		row.Cells[i] = append(row.Cells[i], v) // every tablet's cell has a column, see buildStatus
	}
	return row
}

// classType is the tablet type whose absence makes an empty class normal.
func classType(c weights.Class) topology.TabletType {
	switch c {
	case weights.ClassReplica:
		return topology.TypeReplica
	case weights.ClassRdonly:
		return topology.TypeRdonly
	}
	return topology.TypePrimary
}

func groups(nodes []xdsserver.NodeStatus) []groupView {
	by := map[string]*groupView{}
	for _, n := range nodes {
		g := by[n.Group]
		if g == nil {
			g = &groupView{Group: n.Group}
			by[n.Group] = g
		}
		g.Streams++
		if n.Delta {
			g.Delta++
		}
		if n.LastNack != nil {
			g.Nack = n.LastNack.Error
		}
	}
	var out []groupView
	for _, k := range sortedKeys(by) {
		out = append(out, *by[k])
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
