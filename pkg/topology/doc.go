// Package topology is shardmesh's model of a Vitess-style database fleet:
// cells, keyspaces with their routing policy, shards and tablets.
//
// A Topology is immutable once built and reflects one etcd revision. It is
// produced by a Builder, which decodes and validates records one key at a
// time, so that a burst of changes re-decodes only the records that changed
// and unchanged shards keep their pointer identity (downstream translation
// caches rely on that). The package does no I/O and imports no etcd code.
//
// Invalid input never stops the rest of the topology from routing: a tablet
// record that fails validation is left out of its shard (it never receives
// traffic) and reported as a Problem naming its key and field; an invalid
// cell or keyspace record keeps the last valid value for that key (or the
// defaults when there was none) and is reported the same way.
package topology
