package topology

import (
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
)

// Key prefixes below the etcd prefix P.
const (
	CellsPrefix     = "cells/"
	KeyspacesPrefix = "keyspaces/"
	TabletsPrefix   = "tablets/"
	RulesKey        = "routing/keyspace_rules"
)

// Builder accumulates records key by key and builds immutable Topology
// values. It decodes a record only when it is put, and a Build re-creates
// only the shards touched since the previous Build. A Builder is not safe
// for concurrent use.
type Builder struct {
	cells    map[string]Cell
	policies map[string]*Keyspace // from keyspace records
	defaults map[string]*Keyspace // for keyspaces with tablets but no record
	tablets  map[string]*Tablet   // valid tablets by alias
	byShard  map[ShardKey]map[string]*Tablet
	rules    []RoutingRule
	drains   map[string]Drain  // by cell
	prefer   map[string]string // keyspace -> cell
	shifts   map[string]*Shift
	problems map[string]error
	named    map[string]ShardKey // the shard each invalid tablet record names
	dirty    map[ShardKey]bool
	prev     *Topology
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{
		cells:    map[string]Cell{},
		policies: map[string]*Keyspace{},
		defaults: map[string]*Keyspace{},
		tablets:  map[string]*Tablet{},
		byShard:  map[ShardKey]map[string]*Tablet{},
		problems: map[string]error{},
		named:    map[string]ShardKey{},
		dirty:    map[ShardKey]bool{},
		drains:   map[string]Drain{},
		prefer:   map[string]string{},
		shifts:   map[string]*Shift{},
	}
}

// Reset forgets every record, for a full re-list. The next Build rebuilds
// every shard (none is shared with the previous Topology, which stays as
// it was), and lag holds start afresh.
func (b *Builder) Reset() {
	prev := b.prev
	for k := range b.byShard {
		b.dirty[k] = true
	}
	dirty := b.dirty
	*b = *NewBuilder()
	b.prev, b.dirty = prev, dirty
}

// Put applies the value of a key (relative to the etcd prefix). It returns
// the validation error, if any; the error is also kept as a Problem of the
// next Topology until the key is put with a valid value or deleted. Keys
// outside the known layout are ignored.
func (b *Builder) Put(key string, value []byte) error {
	delete(b.problems, key)
	delete(b.named, key)
	var err error
	switch {
	case strings.HasPrefix(key, CellsPrefix):
		var c Cell
		if c, err = DecodeCell(strings.TrimPrefix(key, CellsPrefix), value); err == nil {
			b.cells[c.Name] = c
		}
	case strings.HasPrefix(key, KeyspacesPrefix):
		var ks *Keyspace
		if ks, err = DecodeKeyspace(strings.TrimPrefix(key, KeyspacesPrefix), value); err == nil {
			b.policies[ks.Name] = ks
			b.rehold(ks.Name)
		}
	case strings.HasPrefix(key, TabletsPrefix):
		alias := strings.TrimPrefix(key, TabletsPrefix)
		prev := b.tablets[alias]
		b.removeTablet(alias)
		var t *Tablet
		if t, err = DecodeTablet(alias, value); err == nil {
			t.LagHeld = lagHeld(b.policyOf(t.Keyspace), t, prev)
			b.addTablet(t)
		}
	case key == RulesKey:
		var rules []RoutingRule
		if rules, err = DecodeRoutingRules(value); err == nil {
			b.rules = rules
		}
	case strings.HasPrefix(key, DrainPrefix):
		var d Drain
		if d, err = DecodeDrain(strings.TrimPrefix(key, DrainPrefix), value); err == nil {
			b.drains[d.Cell] = d
		}
	case strings.HasPrefix(key, ShiftsPrefix):
		var sh *Shift
		if sh, err = DecodeShift(strings.TrimPrefix(key, ShiftsPrefix), value); err == nil {
			b.shifts[sh.Name] = sh
		}
	case strings.HasPrefix(key, PreferPrefix):
		ks := strings.TrimPrefix(key, PreferPrefix)
		var cell string
		if cell, err = DecodePrefer(ks, value); err == nil {
			b.prefer[ks] = cell
		}
	}
	if err != nil {
		b.problems[key] = err
		if strings.HasPrefix(key, TabletsPrefix) {
			b.named[key] = shardNamed(value)
		}
	}
	return err
}

// Delete removes a key (relative to the etcd prefix).
func (b *Builder) Delete(key string) {
	delete(b.problems, key)
	delete(b.named, key)
	switch {
	case strings.HasPrefix(key, CellsPrefix):
		delete(b.cells, strings.TrimPrefix(key, CellsPrefix))
	case strings.HasPrefix(key, KeyspacesPrefix):
		name := strings.TrimPrefix(key, KeyspacesPrefix)
		delete(b.policies, name)
		b.rehold(name)
	case strings.HasPrefix(key, TabletsPrefix):
		b.removeTablet(strings.TrimPrefix(key, TabletsPrefix))
	case key == RulesKey:
		b.rules = nil
	case strings.HasPrefix(key, DrainPrefix):
		delete(b.drains, strings.TrimPrefix(key, DrainPrefix))
	case strings.HasPrefix(key, PreferPrefix):
		delete(b.prefer, strings.TrimPrefix(key, PreferPrefix))
	case strings.HasPrefix(key, ShiftsPrefix):
		delete(b.shifts, strings.TrimPrefix(key, ShiftsPrefix))
	}
}

// lagHeld applies lag hysteresis: above lag.max a tablet is held out, and
// it stays held until its lag is back to LagReadmitPercent of lag.max. The
// state follows the sequence of records in etcd, which every control plane
// replica watching from the same revision sees alike; a replica that
// starts while a tablet is inside the band treats it as not held.
func lagHeld(ks *Keyspace, t, prev *Tablet) bool {
	if t.ReplicationLag > ks.Lag.Max {
		return true
	}
	readmit := ks.Lag.Max * LagReadmitPercent / 100
	return prev != nil && prev.LagHeld && t.ReplicationLag > readmit
}

// rehold re-applies lag hysteresis to the tablets of a keyspace whose
// policy changed: a tablet put before its keyspace record, or held out
// under a lag.max since raised, must not wait for its next record to be
// judged by the policy in force. Tablets whose hold changes are replaced
// (earlier Topologies share them) and their shards marked changed.
func (b *Builder) rehold(keyspace string) {
	ks := b.policyOf(keyspace)
	for k, tablets := range b.byShard {
		if k.Keyspace != keyspace {
			continue
		}
		for alias, t := range tablets {
			if held := lagHeld(ks, t, t); held != t.LagHeld {
				c := *t
				c.LagHeld = held
				tablets[alias], b.tablets[alias] = &c, &c
				b.dirty[k] = true
			}
		}
	}
}

// policyOf returns the policy in force for a keyspace.
func (b *Builder) policyOf(keyspace string) *Keyspace {
	if ks, ok := b.policies[keyspace]; ok {
		return ks
	}
	if ks, ok := b.defaults[keyspace]; ok {
		return ks
	}
	return DefaultKeyspace(keyspace)
}

func (b *Builder) addTablet(t *Tablet) {
	k := ShardKey{t.Keyspace, t.Shard}
	if b.byShard[k] == nil {
		b.byShard[k] = map[string]*Tablet{}
	}
	b.byShard[k][t.Alias] = t
	b.tablets[t.Alias] = t
	b.dirty[k] = true
}

func (b *Builder) removeTablet(alias string) {
	t, ok := b.tablets[alias]
	if !ok {
		return
	}
	k := ShardKey{t.Keyspace, t.Shard}
	delete(b.tablets, alias)
	delete(b.byShard[k], alias)
	if len(b.byShard[k]) == 0 {
		delete(b.byShard, k)
	}
	b.dirty[k] = true
}

// Build returns the Topology of everything put so far, at revision rev.
// The result shares unchanged *Shard and *Keyspace values with the previous
// Build's result: a shard is re-created only when its tablets changed, a
// keyspace only when its policy did. Cells, overrides, shifts and rules
// are not part of a shard; what reads them resolves them per shard (see
// weights.ShardInputs).
func (b *Builder) Build(rev int64) *Topology {
	t := &Topology{
		Revision:  rev,
		Cells:     maps.Clone(b.cells),
		Keyspaces: make(map[string]*Keyspace, len(b.policies)),
		Shards:    make(map[ShardKey]*Shard, len(b.byShard)),
		Rules:     b.rules,
		Overrides: Overrides{Drains: maps.Clone(b.drains), Prefer: maps.Clone(b.prefer)},
		Shifts:    maps.Clone(b.shifts),
	}
	for k, s := range b.prev.shards() {
		if !b.dirty[k] {
			t.Shards[k] = s
		}
	}
	for k := range b.dirty {
		if tablets, ok := b.byShard[k]; ok {
			t.Shards[k] = newShard(k, tablets)
		}
	}
	clear(b.dirty)
	t.index()
	maps.Copy(t.Keyspaces, b.policies)
	for k := range t.Shards {
		if _, ok := t.Keyspaces[k.Keyspace]; ok {
			continue
		}
		ks, ok := b.defaults[k.Keyspace]
		if !ok {
			ks = DefaultKeyspace(k.Keyspace)
			b.defaults[k.Keyspace] = ks
		}
		t.Keyspaces[k.Keyspace] = ks
	}
	for key, err := range b.problems {
		t.Problems = append(t.Problems, Problem{Key: key, Err: err, Shard: b.named[key]})
	}
	sort.Slice(t.Problems, func(i, j int) bool { return t.Problems[i].Key < t.Problems[j].Key })
	b.prev = t
	return t
}

func (t *Topology) shards() map[ShardKey]*Shard {
	if t == nil {
		return nil
	}
	return t.Shards
}

func newShard(k ShardKey, tablets map[string]*Tablet) *Shard {
	r, err := ParseShardName(k.Shard)
	if err != nil {
		// Tablets are validated before they reach a shard.
		panic(fmt.Sprintf("topology: shard %s: %v", k, err))
	}
	s := &Shard{Keyspace: k.Keyspace, Name: k.Shard, Range: r, Tablets: make([]*Tablet, 0, len(tablets))}
	for _, t := range tablets {
		s.Tablets = append(s.Tablets, t)
	}
	sort.Slice(s.Tablets, func(i, j int) bool { return s.Tablets[i].Alias < s.Tablets[j].Alias })
	return s
}

// shardNamed reads the keyspace and shard an invalid tablet record names,
// as far as they can be read, so that explanations can list it with its
// shard.
func shardNamed(value []byte) ShardKey {
	var r struct {
		Keyspace string `json:"keyspace"`
		Shard    string `json:"shard"`
	}
	if json.Unmarshal(value, &r) != nil {
		return ShardKey{}
	}
	return ShardKey{Keyspace: r.Keyspace, Shard: strings.ToLower(r.Shard)}
}
