package topology

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// ErrNoShard is returned by Lookup when no shard matches.
var ErrNoShard = errors.New("no such shard")

// Lookup returns the shard of a keyspace named shard, or, when shard is
// empty, the shard whose key range holds keyspaceID (16 hex digits), as
// the x-shard and x-keyspace-id headers route. An unsharded keyspace
// needs neither. Errors wrap ErrNoShard and name what was looked up.
func (t *Topology) Lookup(keyspace, shard, keyspaceID string) (*Shard, error) {
	shards := t.ShardsOf(keyspace)
	switch {
	case len(shards) == 0:
		return nil, fmt.Errorf("keyspace %q has no tablets: %w", keyspace, ErrNoShard)
	case shard != "":
		if s, ok := t.Shards[ShardKey{Keyspace: keyspace, Shard: shard}]; ok {
			return s, nil
		}
		return nil, fmt.Errorf("%s/%s: %w", keyspace, shard, ErrNoShard)
	case keyspaceID != "":
		if len(keyspaceID) != KeyspaceIDHexLen || !isHex(keyspaceID) {
			return nil, fmt.Errorf("keyspace id %q: want %d hex digits: %w", keyspaceID, KeyspaceIDHexLen, ErrInvalid)
		}
		for _, s := range shards {
			if s.Range.Contains(keyspaceID) {
				return s, nil
			}
		}
		return nil, fmt.Errorf("keyspace %s: no shard holds keyspace id %s: %w", keyspace, keyspaceID, ErrNoShard)
	case len(shards) == 1:
		return shards[0], nil
	}
	return nil, fmt.Errorf("keyspace %s is sharded: name a shard or a keyspace id: %w", keyspace, ErrNoShard)
}

// Modify returns a new Topology: a copy of t with its own maps (Cells,
// Keyspaces, Shards, Overrides, Shifts) and Problems, to which edit is
// applied before the copy is indexed. edit must replace a Shard, Tablet or
// Keyspace it changes with a new value, never modify one in place: they
// are shared with t. t itself is left as it was.
func (t *Topology) Modify(edit func(m *Topology)) *Topology {
	m := &Topology{
		Revision:  t.Revision,
		Cells:     maps.Clone(t.Cells),
		Keyspaces: maps.Clone(t.Keyspaces),
		Shards:    maps.Clone(t.Shards),
		Rules:     slices.Clone(t.Rules),
		Overrides: Overrides{Drains: maps.Clone(t.Overrides.Drains), Prefer: maps.Clone(t.Overrides.Prefer)},
		Shifts:    maps.Clone(t.Shifts),
		Problems:  slices.Clone(t.Problems),
	}
	if m.Overrides.Drains == nil {
		m.Overrides.Drains = map[string]Drain{}
	}
	edit(m)
	m.index()
	return m
}
