// Package xdsserver serves shardmesh's snapshots over xDS with
// go-control-plane: ADS state-of-the-world and delta, plus the separate
// CDS/EDS/LDS/RDS services, on one gRPC server.
//
// Beyond go-control-plane's server it registers each node's group with the
// snapshot cache on the stream's first request, and handles NACKs: a NACK
// is logged with the node and error and recorded per node, and the rejected
// version is not sent again until the topology changes (go-control-plane on
// its own answers a NACK by re-sending the same version at once, which a
// strict client rejects again, in a loop).
package xdsserver
