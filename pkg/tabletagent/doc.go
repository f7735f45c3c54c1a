// Package tabletagent is the tablet agent's logic: it probes one MySQL or
// MariaDB instance and keeps that instance's tablet record in etcd, the
// record the control plane routes on (as vttablet does for vtgate).
//
// Every probe interval the agent asks MySQL whether it answers, whether it
// is writable, how it replicates (threads, semi-sync, lag from a heartbeat
// row the primary's agent maintains) and its schema version, derives the
// record (derive, a pure function) and writes it under an etcd lease only
// when a field changed. When the agent dies the lease expires and the
// tablet leaves routing; when its context ends it drains (DRAINING, then
// delete). A writable instance that sees another primary of its shard with
// a newer term reports itself NOT_SERVING (split-brain guard).
//
// docs/agent.md is the user's guide: flags, privileges, and what each
// record field is derived from.
package tabletagent
