package topowatch

import (
	"time"

	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
)

// ReconnectBackoff is how the gRPC connections of an etcd client should
// retry a lost member: from 100 ms, growing 1.6 times per failure up to
// 500 ms, with 20 % jitter. gRPC's default starts at 1 s and grows to
// 2 minutes, so a member back after a few seconds' outage would be
// noticed only at the next attempt, seconds later; nothing else in the
// chain (the watch, the probe, the Watcher's own retries) can make up for
// that. Attempts every 500 ms at most cost one TCP connect per member.
var ReconnectBackoff = grpcbackoff.Config{
	BaseDelay:  100 * time.Millisecond,
	Multiplier: 1.6,
	Jitter:     0.2,
	MaxDelay:   500 * time.Millisecond,
}

// DialOptions are the gRPC dial options of an etcd client given to a
// Watcher (clientv3.Config.DialOptions): they bound reconnection to a
// member that comes back to ReconnectBackoff, so that the watch resumes
// within about half a second of etcd's return. The slice is the caller's.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: ReconnectBackoff, MinConnectTimeout: 5 * time.Second}),
	}
}
