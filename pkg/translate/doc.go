// Package translate turns a topology into the Envoy resources a node group
// receives: clusters, assignments, listeners, route configurations and
// scoped routes. It is pure — no locks, caches or I/O — and deterministic.
//
// Translation has two steps. Resolve gathers a keyspace's inputs from a
// topology at one time: its route plan (routing rules and shifts) and, per
// shard, weights.ShardInputs (tablets, cells, overrides and the phase of
// every ramp, drain and shift). Keyspace then lists the keyspace's
// resources for a group as Items, each with a Build that reads only its
// Key. Translate builds them all afresh; pkg/xdscache builds them through
// a memo keyed by Item.Key, so a resource is rebuilt exactly when an input
// it reads changed.
package translate
