package topowatch

import "github.com/shardmesh/shardmesh/pkg/topology"

// Store receives the records of the watched prefix, keys relative to it, and
// builds the topology to publish. A *topology.Builder is the default; other
// sources (the Vitess topology) give their own Store to reuse the Watcher's
// listing, watching, resuming, batching and fail-static behaviour. The
// Watcher calls it from Run's goroutine only.
type Store interface {
	// Reset forgets every record before a full listing.
	Reset()
	// Put applies the value of a key; an error is logged with the key and
	// the record is otherwise skipped.
	Put(key string, value []byte) error
	// Delete removes a key.
	Delete(key string)
	// Build returns the topology of everything applied, at etcd revision rev.
	Build(rev int64) *topology.Topology
}

var _ Store = (*topology.Builder)(nil)
