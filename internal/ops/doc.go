// Package ops carries out operator actions on the topology in etcd — the
// gradual shifts, keyspace routing rules and cell overrides of
// docs/shifting.md — for shardctl and tests. Every write is validated with
// the same decoders the control plane uses before it reaches etcd, and
// read-modify-write actions compare the record's mod revision, so two
// operators cannot silently overwrite each other.
package ops
