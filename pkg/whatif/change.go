package whatif

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// Op is a kind of hypothetical change.
type Op string

// Changes a rehearsal can apply.
const (
	FailCell   Op = "fail-cell"   // every tablet of the cell is gone (its agents died)
	FailTablet Op = "fail-tablet" // the tablet is gone
	Lag        Op = "lag"         // the tablet's replication lag becomes Lag
	DrainCell  Op = "drain-cell"  // an operator drains the cell's reads at once
	Reparent   Op = "reparent"    // Tablet becomes the primary of Shard; the old primary a replica
)

// Change is one hypothetical change.
type Change struct {
	Op     Op
	Cell   string            // FailCell, DrainCell
	Tablet string            // FailTablet, Lag, Reparent: the tablet alias
	Lag    time.Duration     // Lag
	Shard  topology.ShardKey // Reparent
}

// String is the change in the words of its shardctl flag.
func (c Change) String() string {
	switch c.Op {
	case FailCell, DrainCell:
		return string(c.Op) + " " + c.Cell
	case Lag:
		return "lag " + c.Tablet + "=" + c.Lag.String()
	case Reparent:
		return "reparent " + c.Shard.String() + "=" + c.Tablet
	}
	return string(c.Op) + " " + c.Tablet
}

// Parse reads a change from its flag name and value: fail-cell zone1,
// fail-tablet ALIAS, lag ALIAS=60s, drain-cell zone1, reparent
// KEYSPACE/SHARD=ALIAS. Errors wrap topology.ErrInvalid and name the flag.
func Parse(op Op, value string) (Change, error) {
	c := Change{Op: op}
	bad := func(want string) (Change, error) {
		return Change{}, fmt.Errorf("--%s %q: want %s: %w", op, value, want, topology.ErrInvalid)
	}
	switch op {
	case FailCell, DrainCell:
		if value == "" {
			return bad("a cell name")
		}
		c.Cell = value
	case FailTablet:
		if _, _, err := topology.ParseAlias(value); err != nil {
			return bad("a tablet alias")
		}
		c.Tablet = value
	case Lag:
		alias, d, ok := strings.Cut(value, "=")
		lag, err := time.ParseDuration(d)
		if _, _, aerr := topology.ParseAlias(alias); !ok || err != nil || aerr != nil || lag < 0 {
			return bad("ALIAS=DURATION, e.g. zone1-0000000102=60s")
		}
		c.Tablet, c.Lag = alias, lag
	case Reparent:
		shard, alias, ok := strings.Cut(value, "=")
		ks, name, sok := strings.Cut(shard, "/")
		if _, _, aerr := topology.ParseAlias(alias); !ok || !sok || ks == "" || name == "" || aerr != nil {
			return bad("KEYSPACE/SHARD=ALIAS, e.g. commerce/-80=zone2-0000000201")
		}
		c.Shard, c.Tablet = topology.ShardKey{Keyspace: ks, Shard: name}, alias
	default:
		return Change{}, fmt.Errorf("unknown change %q: %w", op, topology.ErrInvalid)
	}
	return c, nil
}

// Apply returns the topology with the changes applied in order, at now
// (a reparent's new term starts then). topo is not modified. A change
// naming a cell, tablet or shard the topology does not have is an error
// wrapping topology.ErrInvalid.
func Apply(topo *topology.Topology, changes []Change, now time.Time) (*topology.Topology, error) {
	var err error
	out := topo.Modify(func(m *topology.Topology) {
		for _, c := range changes {
			if err = apply(m, c, now); err != nil {
				err = fmt.Errorf("%s: %w", c, err)
				return
			}
		}
	})
	return out, err
}

func apply(m *topology.Topology, c Change, now time.Time) error {
	switch c.Op {
	case FailCell:
		if !hasCell(m, c.Cell) {
			return fmt.Errorf("cell %s: no such cell: %w", c.Cell, topology.ErrInvalid)
		}
		edit(m, func(t *topology.Tablet) *topology.Tablet {
			if t.Cell == c.Cell {
				return nil
			}
			return t
		})
	case DrainCell:
		if !hasCell(m, c.Cell) {
			return fmt.Errorf("cell %s: no such cell: %w", c.Cell, topology.ErrInvalid)
		}
		m.Overrides.Drains[c.Cell] = topology.Drain{Cell: c.Cell, Reason: "what-if"}
	case FailTablet, Lag:
		if find(m, c.Tablet) == nil {
			return fmt.Errorf("tablet %s: no such tablet: %w", c.Tablet, topology.ErrInvalid)
		}
		edit(m, func(t *topology.Tablet) *topology.Tablet {
			switch {
			case t.Alias != c.Tablet:
				return t
			case c.Op == FailTablet:
				return nil
			}
			lagged := *t
			lagged.ReplicationLag, lagged.LagHeld = c.Lag, false
			return &lagged
		})
	case Reparent:
		return reparent(m, c, now)
	}
	return nil
}

// reparent makes c.Tablet, a replica of c.Shard, the primary with a term
// newer than any other, as PlannedReparentShard does; the former primaries
// become semi-sync replicas.
func reparent(m *topology.Topology, c Change, now time.Time) error {
	s, ok := m.Shards[c.Shard]
	if !ok {
		return fmt.Errorf("shard %s: no such shard: %w", c.Shard, topology.ErrInvalid)
	}
	i := slices.IndexFunc(s.Tablets, func(t *topology.Tablet) bool { return t.Alias == c.Tablet })
	if i < 0 || s.Tablets[i].Type != topology.TypeReplica {
		return fmt.Errorf("tablet %s: not a replica of %s: %w", c.Tablet, c.Shard, topology.ErrInvalid)
	}
	term := now
	for _, t := range s.Tablets {
		if t.Type == topology.TypePrimary && !t.PrimaryTermStart.Before(term) {
			term = t.PrimaryTermStart.Add(time.Second)
		}
	}
	edit(m, func(t *topology.Tablet) *topology.Tablet {
		if t.Keyspace != c.Shard.Keyspace || t.Shard != c.Shard.Shard {
			return t
		}
		switch {
		case t.Alias == c.Tablet:
			p := *t
			p.Type, p.PrimaryTermStart, p.State, p.HealthError, p.ReplicationLag, p.LagHeld = topology.TypePrimary, term, topology.StateServing, "", 0, false
			return &p
		case t.Type == topology.TypePrimary:
			r := *t
			r.Type, r.Replication, r.PrimaryTermStart = topology.TypeReplica, topology.ReplicationSemiSync, time.Time{}
			return &r
		}
		return t
	})
	return nil
}

// edit replaces every tablet by f's result (nil removes it), giving each
// shard that changed a new Shard value and dropping shards left empty.
func edit(m *topology.Topology, f func(*topology.Tablet) *topology.Tablet) {
	for k, s := range m.Shards {
		var tablets []*topology.Tablet
		changed := false
		for _, t := range s.Tablets {
			n := f(t)
			changed = changed || n != t
			if n != nil {
				tablets = append(tablets, n)
			}
		}
		switch {
		case !changed:
		case len(tablets) == 0:
			delete(m.Shards, k)
		default:
			ns := *s
			ns.Tablets = tablets
			m.Shards[k] = &ns
		}
	}
}

func find(m *topology.Topology, alias string) *topology.Tablet {
	for _, s := range m.Shards {
		for _, t := range s.Tablets {
			if t.Alias == alias {
				return t
			}
		}
	}
	return nil
}

func hasCell(m *topology.Topology, cell string) bool {
	if _, ok := m.Cells[cell]; ok {
		return true
	}
	for _, s := range m.Shards {
		for _, t := range s.Tablets {
			if t.Cell == cell {
				return true
			}
		}
	}
	return false
}
