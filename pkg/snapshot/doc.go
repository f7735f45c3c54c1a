// Package snapshot translates a topology into the Envoy resources each node
// group receives, and answers the xDS server's state-of-the-world and delta
// watches from them (Cache.Watcher), sending a stream only the subscribed
// resources that changed.
//
// Translation is pure and memoized: a resource is rebuilt only when the
// topology values it depends on changed (shards and keyspaces keep their
// pointer identity across topologies when unchanged), so a change to one
// tablet re-translates only that shard's assignments. Every new resource is
// checked with ValidateAll() — the constraints Envoy itself enforces — and
// hashed once; resource and snapshot versions are content hashes, so two
// control plane replicas on the same etcd revision serve identical
// versions. A group's snapshot is a view through its per-keyspace parts;
// a change rebuilds the changed keyspace's part, and groups build in
// parallel.
package snapshot
