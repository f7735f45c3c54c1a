// Package weights is shardmesh's routing policy: pure functions from a
// topology, a shard, a route class, a client locality and client kind, and
// the time, to a prioritized, weighted assignment of tablets.
//
// It decides which tablets are eligible (serving, healthy, caught up,
// schema-compatible), which health status each endpoint advertises, which
// priority each locality gets relative to the client (zone, then region,
// then other regions), and the weights. It does no I/O and never reads the
// clock: the caller passes `now`, so control plane replicas given the same
// topology and time produce the same assignment.
//
// Output obeys the rules of every xDS client we serve: priorities are
// contiguous from 0, every locality carries a weight ≥ 1 and every endpoint
// a weight ≥ 1 (proxyless gRPC NACKs or drops anything else).
package weights
