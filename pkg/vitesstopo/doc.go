// Package vitesstopo is shardmesh's Vitess source: it reads an existing
// Vitess cluster's own topology (the protobuf records that vtctld writes to
// etcd) and its tablets' health streams, as vtgate does, and publishes
// topology.Topology values to the same Observer the etcd watcher feeds.
//
// A Source runs one topowatch.Watcher per etcd root — the Vitess global
// root, the root of every cell its CellInfo records name, and the shardmesh
// overlay prefix — so every root is listed at one revision, watched from
// the next, resumed after failures and re-listed after compaction exactly
// as the shardmesh etcd source is. Each root's records are decoded with the
// Vitess protos and kept by key; a build maps them onto shardmesh records
// (cells, tablets, keyspace routing rules) and applies those to one
// topology.Builder, so validation, lag hysteresis and shard sharing are the
// etcd source's own. Keyspace policies, overrides and shifts come from the
// overlay prefix unchanged; cells of the overlay place Vitess cells in a
// region and zone.
//
// Tablet health comes from vitesshealth: a tablet is SERVING only while its
// StreamHealth stream is up and says so, and the stream's target (tablet
// type, primary term) overrides the topology record, so that a reparent
// reaches clients from whichever of the two reports it first.
//
// Nothing is published until every root has been listed once. Afterwards a
// change in any root, or a health change, publishes a new topology after
// the same hold-off batching.
package vitesstopo
