// Package xdscache keeps every node group's resources and answers the xDS
// server's state-of-the-world and delta watches from them (Cache.Watcher),
// sending a stream only the subscribed resources that changed.
//
// Resources come from pkg/translate through a memo keyed by each item's
// inputs (translate.Item.Key): a resource is rebuilt exactly when an input
// it reads changed, so a change to one tablet re-translates only that
// shard's assignments. Every new resource is checked with ValidateAll() —
// the constraints Envoy itself enforces — and hashed once; resource and
// snapshot versions are content hashes, so two control plane replicas on
// the same etcd revision serve identical versions. A group's snapshot is a
// view through its per-keyspace parts; a change rebuilds the changed
// keyspace's part, and groups build in parallel. RunPhaseTimer rebuilds
// when a ramp, drain or shift reaches its next step.
//
// The watches are the one store: debug views (Cache.Snapshot, Cache.Render)
// read what streams are served. The xDS server binds each stream's node to
// its group (RegisterAs, Bind) before its requests reach the cache, so the
// group and its tenant travel as typed values; a NACKed version is not
// sent again (clientVersion).
package xdscache
