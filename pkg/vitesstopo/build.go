package vitesstopo

import (
	"bytes"
	"maps"
	"slices"
	"sort"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vschemapb "vitess.io/vitess/go/vt/proto/vschema"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// view is every decoded Vitess record, gathered from all roots.
type view struct {
	cells     map[string]*topodatapb.CellInfo
	aliases   map[string]*topodatapb.CellsAlias
	keyspaces map[string]*topodatapb.Keyspace
	shards    map[topology.ShardKey]*topodatapb.Shard
	tablets   map[string]*topodatapb.Tablet
	rules     *vschemapb.KeyspaceRoutingRules
}

// gatherLocked merges the records of every root, in root order so that a
// record present in two roots resolves the same way every time.
func (s *Source) gatherLocked() view {
	v := view{
		cells: map[string]*topodatapb.CellInfo{}, aliases: map[string]*topodatapb.CellsAlias{},
		keyspaces: map[string]*topodatapb.Keyspace{}, shards: map[topology.ShardKey]*topodatapb.Shard{},
		tablets: map[string]*topodatapb.Tablet{},
	}
	for _, prefix := range slices.Sorted(maps.Keys(s.roots)) {
		for _, r := range s.roots[prefix].recs {
			switch m := r.msg.(type) {
			case *topodatapb.CellInfo:
				v.cells[r.key.name] = m
			case *topodatapb.CellsAlias:
				v.aliases[r.key.name] = m
			case *topodatapb.Keyspace:
				v.keyspaces[r.key.name] = m
			case *topodatapb.Shard:
				v.shards[topology.ShardKey{Keyspace: r.key.keyspace, Shard: r.key.shard}] = m
			case *topodatapb.Tablet:
				v.tablets[r.key.name] = m
			case *vschemapb.KeyspaceRoutingRules:
				v.rules = m
			}
		}
	}
	return v
}

// buildLocked follows the cells' roots, maps the Vitess records and the
// tablets' health onto shardmesh records, applies the ones that changed to
// the builder and builds the topology. It returns nil until the overlay and
// every root have been listed.
func (s *Source) buildLocked() *topology.Topology {
	v := s.gatherLocked()
	if s.ctx != nil && s.ctx.Err() == nil {
		s.followCellsLocked(v)
	}
	ready := s.overlay.synced
	rev := s.overlay.rev
	for _, r := range s.roots {
		ready = ready && r.synced
		rev = max(rev, r.rev)
	}
	if !ready || !s.healthReadyLocked(v) {
		return nil
	}
	want := s.mapLocked(v)
	for key, value := range want {
		if old, ok := s.derived[key]; !ok || !bytes.Equal(old, value) {
			if err := s.builder.Put(key, value); err != nil {
				s.log.Warn("vitess record maps to an invalid shardmesh record", "key", key, "error", err)
			}
		}
	}
	for key := range s.derived {
		if _, ok := want[key]; !ok {
			s.builder.Delete(key)
		}
	}
	s.derived = want
	t := s.builder.Build(rev)
	for _, r := range s.roots {
		for key, err := range r.errs {
			t.Problems = append(t.Problems, topology.Problem{Key: r.prefix + key, Err: err})
		}
	}
	sort.Slice(t.Problems, func(i, j int) bool { return t.Problems[i].Key < t.Problems[j].Key })
	s.latest = t
	targets := healthTargets(v)
	s.checker.Set(targets)
	for alias := range s.health {
		if _, ok := targets[alias]; !ok {
			delete(s.health, alias) // its stream is gone with it
		}
	}
	return t
}

// healthReadyLocked reports whether the first publication may go ahead:
// every tablet's stream has answered or failed, or InitialHealthWait has
// passed since every root was listed. Later publications never wait.
func (s *Source) healthReadyLocked(v view) bool {
	if s.latest != nil {
		return true
	}
	now := s.cfg.Clock.Now()
	if s.rootsAt.IsZero() {
		s.rootsAt = now
		s.cfg.Clock.AfterFunc(s.cfg.InitialHealthWait, s.poke)
		s.checker.Set(healthTargets(v))
	}
	if now.Sub(s.rootsAt) >= s.cfg.InitialHealthWait {
		return true
	}
	for alias := range healthTargets(v) {
		if _, ok := s.health[alias]; !ok {
			return false
		}
	}
	return true
}

// followCellsLocked starts watching the root of every cell and stops
// watching (and forgets) the roots of cells that are gone.
func (s *Source) followCellsLocked(v view) {
	want := map[string]bool{s.global: true}
	for _, c := range v.cells {
		want[withSlash(c.GetRoot())] = true
	}
	for prefix, r := range s.roots {
		if !want[prefix] {
			r.cancel()
			delete(s.roots, prefix)
			s.log.Info("stopped watching vitess topology root: its cell is gone", "root", prefix)
		}
	}
	for _, prefix := range slices.Sorted(maps.Keys(want)) {
		s.startRootLocked(prefix)
	}
}
