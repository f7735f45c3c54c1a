package weights

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// ShardInputs are the values one shard's assignments are computed from,
// resolved from a topology at one time. AssignShard reads nothing else
// besides the class and the client, so Key(), with the class and the
// client, is a complete cache key for an assignment: whatever a record or
// the clock changes that an assignment reads changes its inputs.
type ShardInputs struct {
	// Keyspace and Shard are immutable: their identity stands for their
	// content (topology.Builder re-creates a shard whose tablets changed).
	Keyspace *topology.Keyspace
	Shard    *topology.Shard
	// Env is everything else, as plain values.
	Env ShardEnv
}

// ShardEnv is what a shard's assignments read from outside the keyspace
// policy and the shard's tablets, resolved at one time: the cells of its
// tablets, operator overrides that touch them, and the time phase of every
// ramp, drain and cell shift. Every field takes part in the key (see
// ShardEnv.key and TestShardEnvKeyCoversEveryField).
type ShardEnv struct {
	// Cells are the cell records of the cells the shard's tablets are in,
	// sorted by name; a cell without a record is absent.
	Cells []topology.Cell
	// Prefer is the cell the keyspace's reads prefer ("" for none).
	Prefer string
	// Drains are the drains of the tablets' cells, with their step at the
	// time, sorted by cell (RampSteps: the drain is complete).
	Drains []DrainStep
	// Shifts are the cell shifts of replica and rdonly reads (indexed by
	// shiftIndex) at their percentage in force; the zero value moves
	// nothing.
	Shifts [2]CellShift
	// Ramps is each tablet's slow-start step, in the order of
	// Shard.Tablets (RampSteps: not ramping); nil when none ramps.
	Ramps []int
}

// DrainStep is an operator drain of a cell at one time.
type DrainStep struct {
	Cell string
	Step int
}

// CellShift moves Percent of a tablet type's reads from one cell to
// another.
type CellShift struct {
	From, To string
	Percent  uint32
}

// InputsKey is ShardInputs in a comparable form, for cache keys.
type InputsKey struct {
	Keyspace *topology.Keyspace
	Shard    *topology.Shard
	Env      string
}

// Key returns the inputs' cache key.
func (in ShardInputs) Key() InputsKey {
	return InputsKey{Keyspace: in.Keyspace, Shard: in.Shard, Env: in.Env.key()}
}

// key encodes every field of the environment.
func (e ShardEnv) key() string {
	var b strings.Builder
	for _, c := range e.Cells {
		b.WriteString(c.Name + "=" + c.Region + "/" + c.Zone + ";")
	}
	b.WriteString("|" + e.Prefer + "|")
	for _, d := range e.Drains {
		b.WriteString(d.Cell + ":" + strconv.Itoa(d.Step) + ";")
	}
	for _, s := range e.Shifts {
		b.WriteString("|" + s.From + ">" + s.To + "@" + strconv.Itoa(int(s.Percent)))
	}
	b.WriteByte('|')
	for _, r := range e.Ramps {
		b.WriteString(strconv.Itoa(r) + ",")
	}
	return b.String()
}

// cell returns the record of a tablet's cell, known false without one.
func (e ShardEnv) cell(name string) (topology.Cell, bool) {
	i, ok := slices.BinarySearchFunc(e.Cells, name, func(c topology.Cell, n string) int { return strings.Compare(c.Name, n) })
	if !ok {
		return topology.Cell{Name: name}, false
	}
	return e.Cells[i], true
}

// rampStep is the slow-start step of the shard's i-th tablet.
func (e ShardEnv) rampStep(i int) int {
	if e.Ramps == nil {
		return RampSteps
	}
	return e.Ramps[i]
}

// shiftIndex maps the tablet types that cell shifts move to ShardEnv.Shifts.
func shiftIndex(typ topology.TabletType) (int, bool) {
	switch typ {
	case topology.TypeReplica:
		return 0, true
	case topology.TypeRdonly:
		return 1, true
	}
	return 0, false
}

// ResolveShards returns the inputs of a keyspace's shards at now, in the
// order of shards. Work shared by the shards (a cell shift's progress,
// which depends on the whole keyspace) is done once.
func ResolveShards(topo *topology.Topology, ks *topology.Keyspace, shards []*topology.Shard, now time.Time) []ShardInputs {
	var shifts [2]CellShift
	for _, typ := range []topology.TabletType{topology.TypeReplica, topology.TypeRdonly} {
		if s := shiftOf(topo, ks.Name, typ, true); s != nil {
			if p := progress(topo, s, "", typ, now); p.Percent > 0 {
				i, _ := shiftIndex(typ)
				shifts[i] = CellShift{From: s.FromCell, To: s.ToCell, Percent: p.Percent}
			}
		}
	}
	out := make([]ShardInputs, len(shards))
	for i, s := range shards {
		out[i] = ShardInputs{Keyspace: ks, Shard: s, Env: shardEnv(topo, ks, s, shifts, now)}
	}
	return out
}

// Resolve returns the inputs of one shard at now.
func Resolve(topo *topology.Topology, s *topology.Shard, now time.Time) ShardInputs {
	ks, ok := topo.Keyspaces[s.Keyspace]
	if !ok {
		ks = topology.DefaultKeyspace(s.Keyspace)
	}
	return ResolveShards(topo, ks, []*topology.Shard{s}, now)[0]
}

func shardEnv(topo *topology.Topology, ks *topology.Keyspace, s *topology.Shard, shifts [2]CellShift, now time.Time) ShardEnv {
	e := ShardEnv{Prefer: topo.Overrides.Prefer[ks.Name], Shifts: shifts}
	for i, t := range s.Tablets {
		if c, ok := topo.Cells[t.Cell]; ok && !slices.ContainsFunc(e.Cells, func(k topology.Cell) bool { return k.Name == c.Name }) {
			e.Cells = append(e.Cells, c)
		}
		if d, ok := topo.Overrides.Drains[t.Cell]; ok && !slices.ContainsFunc(e.Drains, func(k DrainStep) bool { return k.Cell == t.Cell }) {
			e.Drains = append(e.Drains, DrainStep{Cell: t.Cell, Step: d.Step(now, RampSteps)})
		}
		if step := rampStep(ks, t, now); step < RampSteps {
			if e.Ramps == nil {
				e.Ramps = make([]int, len(s.Tablets))
				for j := range e.Ramps {
					e.Ramps[j] = RampSteps
				}
			}
			e.Ramps[i] = step
		}
	}
	slices.SortFunc(e.Cells, func(a, b topology.Cell) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(e.Drains, func(a, b DrainStep) int { return strings.Compare(a.Cell, b.Cell) })
	return e
}
