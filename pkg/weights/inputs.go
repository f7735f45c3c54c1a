package weights

import (
	"slices"
	"strings"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// ShardInputs are the values one shard's assignments are computed from,
// resolved from a topology at one time. Assign reads nothing else besides
// the class and the client, so Key(), with the class and the client, is a
// complete cache key for an assignment: whatever a record or the clock
// changes that an assignment reads changes its inputs.
type ShardInputs struct {
	// Keyspace, Shard and Env are immutable: their identity stands for
	// their content (topology.Builder re-creates a shard whose tablets
	// changed; a Resolver hands out a new Env when any field differs).
	Keyspace *topology.Keyspace
	Shard    *topology.Shard
	Env      *ShardEnv // everything else, as plain values
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
	// Shard.Tablets (RampSteps: not ramping); empty when none ramps.
	Ramps []int
}

// DrainStep is an operator drain of a cell at one time, with the reason
// the operator gave (for explanations).
type DrainStep struct {
	Cell   string
	Step   int
	Reason string
}

// CellShift moves Percent of a tablet type's reads from one cell to
// another; Name is the shift record's, for explanations.
type CellShift struct {
	Name     string
	From, To string
	Percent  uint32
}

// InputsKey is ShardInputs in a comparable form, for cache keys.
type InputsKey struct {
	Keyspace *topology.Keyspace
	Shard    *topology.Shard
	Env      *ShardEnv
}

// Key returns the inputs' cache key.
func (in ShardInputs) Key() InputsKey { return InputsKey(in) }

// equal reports whether two environments hold the same values, field by
// field.
func (e *ShardEnv) equal(o *ShardEnv) bool {
	return slices.Equal(e.Cells, o.Cells) && e.Prefer == o.Prefer && slices.Equal(e.Drains, o.Drains) &&
		e.Shifts == o.Shifts && slices.Equal(e.Ramps, o.Ramps)
}

// clone returns a copy that shares no memory with e.
func (e *ShardEnv) clone() *ShardEnv {
	c := *e
	c.Cells, c.Drains, c.Ramps = slices.Clone(e.Cells), slices.Clone(e.Drains), slices.Clone(e.Ramps)
	return &c
}

// cell returns the record of a tablet's cell, known false without one.
func (e *ShardEnv) cell(name string) (topology.Cell, bool) {
	i, ok := slices.BinarySearchFunc(e.Cells, name, func(c topology.Cell, n string) int { return strings.Compare(c.Name, n) })
	if !ok {
		return topology.Cell{Name: name}, false
	}
	return e.Cells[i], true
}

// rampStep is the slow-start step of the shard's i-th tablet.
func (e *ShardEnv) rampStep(i int) int {
	if len(e.Ramps) == 0 {
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

// Resolver resolves shard inputs topology after topology. A shard whose
// environment holds the same values as when it was last resolved, in this
// generation or the previous one, keeps its Env (the same pointer, so
// equal keys and no allocation); any other gets a new one. A Resolver is
// not safe for concurrent use.
type Resolver struct {
	prev, cur map[*topology.Shard]*ShardEnv
	scratch   ShardEnv
	// shards holds what fill needs of each shard's tablets: a shard is
	// immutable, so it is found once per shard, not once per topology.
	shards, prevShards map[*topology.Shard]shardFacts
}

// shardFacts are facts of a shard's tablets that fill reads.
type shardFacts struct {
	cells       []string  // the tablets' distinct cells, sorted
	lastServing time.Time // the latest serving_since of a SERVING tablet
}

// Resolve returns the inputs of a keyspace's shards at now, in the order
// of shards. Work shared by the shards (a cell shift's progress, which
// depends on the whole keyspace) is done once.
func (r *Resolver) Resolve(topo *topology.Topology, ks *topology.Keyspace, shards []*topology.Shard, now time.Time) []ShardInputs {
	if r.cur == nil {
		r.cur = make(map[*topology.Shard]*ShardEnv, len(r.prev))
		r.shards = make(map[*topology.Shard]shardFacts, len(r.prevShards))
	}
	shifts := cellShifts(topo, ks, now)
	out := make([]ShardInputs, len(shards))
	for i, s := range shards {
		r.scratch.fill(topo, ks, s, r.factsOf(s), shifts, now)
		env := r.cur[s] // resolved already in this generation (another group, another time)
		if env == nil || !env.equal(&r.scratch) {
			env = r.prev[s]
		}
		if env == nil || !env.equal(&r.scratch) {
			env = r.scratch.clone()
		}
		r.cur[s] = env
		out[i] = ShardInputs{Keyspace: ks, Shard: s, Env: env}
	}
	return out
}

// Sweep ends a generation: environments not resolved since the previous
// Sweep are forgotten.
func (r *Resolver) Sweep() {
	r.prev, r.cur = r.cur, nil
	r.prevShards, r.shards = r.shards, nil
}

// factsOf returns a shard's facts.
func (r *Resolver) factsOf(s *topology.Shard) shardFacts {
	f, ok := r.shards[s]
	if !ok {
		if f, ok = r.prevShards[s]; !ok {
			for _, t := range s.Tablets {
				if !slices.Contains(f.cells, t.Cell) {
					f.cells = append(f.cells, t.Cell)
				}
				if t.State == topology.StateServing && t.ServingSince.After(f.lastServing) {
					f.lastServing = t.ServingSince
				}
			}
			slices.Sort(f.cells)
		}
		r.shards[s] = f
	}
	return f
}

// Resolve returns the inputs of one shard at now.
func Resolve(topo *topology.Topology, s *topology.Shard, now time.Time) ShardInputs {
	ks, ok := topo.Keyspaces[s.Keyspace]
	if !ok {
		ks = topology.DefaultKeyspace(s.Keyspace)
	}
	var r Resolver
	return r.Resolve(topo, ks, []*topology.Shard{s}, now)[0]
}

// cellShifts returns the cell shifts of a keyspace's replica and rdonly
// reads in force at now.
func cellShifts(topo *topology.Topology, ks *topology.Keyspace, now time.Time) [2]CellShift {
	var shifts [2]CellShift
	for _, typ := range []topology.TabletType{topology.TypeReplica, topology.TypeRdonly} {
		if s := shiftOf(topo, ks.Name, typ, true); s != nil {
			if p := progress(topo, s, "", typ, now); p.Percent > 0 {
				i, _ := shiftIndex(typ)
				shifts[i] = CellShift{Name: s.Name, From: s.FromCell, To: s.ToCell, Percent: p.Percent}
			}
		}
	}
	return shifts
}

// fill sets e to a shard's environment at now, reusing e's slices.
func (e *ShardEnv) fill(topo *topology.Topology, ks *topology.Keyspace, s *topology.Shard, f shardFacts, shifts [2]CellShift, now time.Time) {
	*e = ShardEnv{Cells: e.Cells[:0], Drains: e.Drains[:0], Ramps: e.Ramps[:0], Prefer: topo.Overrides.Prefer[ks.Name], Shifts: shifts}
	for _, name := range f.cells {
		if len(topo.Overrides.Drains) > 0 {
			if d, ok := topo.Overrides.Drains[name]; ok {
				e.Drains = append(e.Drains, DrainStep{Cell: name, Step: d.Step(now, RampSteps), Reason: d.Reason})
			}
		}
		if rec, ok := topo.Cells[name]; ok {
			e.Cells = append(e.Cells, rec)
		}
	}
	// A tablet ramps for ramp.window after its serving_since: past the
	// latest one, none does.
	if ks.Ramp.Window > 0 && now.Before(f.lastServing.Add(ks.Ramp.Window)) {
		ramping := false
		for _, t := range s.Tablets {
			step := rampStep(ks, t, now)
			ramping = ramping || step < RampSteps
			e.Ramps = append(e.Ramps, step)
		}
		if !ramping {
			e.Ramps = e.Ramps[:0]
		}
	}
}
