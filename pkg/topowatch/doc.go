// Package topowatch is shardmesh's etcd source: it keeps a topology.Topology
// in step with the records under an etcd prefix and hands each new one to an
// Observer.
//
// A Watcher follows etcd's client/v3/mirror: it reads the whole prefix with
// a paged Get pinned to the revision of the first page, builds and publishes
// that topology (the first complete sync), then watches the prefix from the
// next revision and applies each event to the same topology.Builder.
//
// Bursts of events are batched: a new topology is published once no event
// has arrived for HoldOff, or MaxDelay after the first unpublished event if
// events keep coming. Every published topology reflects exactly one etcd
// revision, so every replica of the control plane publishes the same thing
// for the same revision.
//
// When the watch fails, the Watcher resumes it from the last revision it
// applied (skipping that revision's events), with a bounded back-off; when
// etcd has compacted that revision away, it reads the prefix again in
// full. While etcd is unreachable nothing is published: the last topology
// stays in force downstream (fail-static), and Health says the source is
// disconnected.
//
// A member that hangs keeps its connection open and fails nothing, so the
// watch asks it for progress every StallInterval and reopens itself on a
// new stream when a request goes unanswered. (etcd answers progress
// requests only for watches starting at a revision it has reached, which
// is why a watch starts at the last revision applied, not the next one.)
// The etcd client should dial with DialOptions: gRPC's default reconnect
// back-off (1 s growing to 2 min) would otherwise decide how long after
// etcd's return the watch resumes.
//
// All scheduling (hold-off, maximum delay, back-off, health probes, stall
// checks) runs on
// an injected clockwork.Clock, so tests advance a fake clock instead of
// sleeping.
package topowatch
