package topology

import (
	"errors"
	"fmt"
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
