// Package ops carries out operator actions on the topology in etcd — the
// gradual shifts, keyspace routing rules and cell overrides of
// docs/shifting.md — and writes seed records (ApplyRecords), for shardctl,
// xds-server --seed and tests. It links only etcd's client. Every write is validated with
// the same decoders the control plane uses before it reaches etcd, and
// read-modify-write actions compare the record's mod revision, so two
// operators cannot silently overwrite each other.
package ops
