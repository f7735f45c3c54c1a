// Package app wires xds-server together: the etcd client (or an embedded
// etcd), the topology watcher, the snapshot cache, the xDS server and the
// admin HTTP server. cmd/xds-server turns flags into a Config and calls
// Start; the end-to-end tests call Start the same way, so they test the
// real wiring.
package app
