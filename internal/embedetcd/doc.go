// Package embedetcd runs a single-member etcd server inside the process: the
// topology store of `xds-server` when no --etcd-endpoints are given, and the
// real etcd that tests run against.
//
// The server listens on plain HTTP (no TLS) at the configured client address
// and keeps its data in Config.Dir, so that a Server can be closed and
// started again on the same directory and port ("etcd goes away, then comes
// back") with its keys and revisions intact. etcd's own log is forwarded to
// the given slog.Logger at error level only.
package embedetcd
