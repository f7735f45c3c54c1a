package app

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Defaults of the connection-lifetime settings, as istiod's.
const (
	DefaultMaxConnectionAge      = 30 * time.Minute
	DefaultMaxConnectionAgeGrace = 10 * time.Second
	DefaultDrainTimeout          = 5 * time.Second
)

// keepaliveOption is the xDS server's keepalive: pings as pkg/xdsserver's
// defaults (every 30 s, 10 s to answer), and a maximum connection age after
// which gRPC sends GOAWAY (at the age ±10 %, gRPC's own jitter) and closes
// the connection after the grace period. The client's xDS stream then
// starts again, through whatever is in front of the replicas, on any of
// them: after a scale-up, clients spread over the new replicas within one
// age. Given after pkg/xdsserver's defaults, it replaces them.
func keepaliveOption(cfg Config) grpc.ServerOption {
	return grpc.KeepaliveParams(keepalive.ServerParameters{
		Time:                  30 * time.Second,
		Timeout:               10 * time.Second,
		MaxConnectionAge:      cfg.MaxConnectionAge,
		MaxConnectionAgeGrace: cfg.MaxConnectionAgeGrace,
	})
}

// Drain lets clients move to other replicas before the process exits: /readyz
// turns 503 (a load balancer stops sending new clients), the xDS listener
// closes and every connection gets a GOAWAY, so clients open their next
// connection elsewhere while keeping their current configuration. Open xDS
// streams never end by themselves, so after timeout (or when every stream
// has ended) they are closed; each client's stream then resumes at once on
// another replica, with the same versions. timeout is Config.DrainTimeout.
// Drain returns when no stream is left; Close is still needed to stop the
// rest.
func (a *App) Drain() {
	timeout := a.cfg.DrainTimeout
	a.draining.Store(true)
	a.log.Info("draining: GOAWAY sent to every xDS connection", "timeout", timeout)
	done := make(chan struct{})
	go func() {
		a.Server.GracefulStop()
		close(done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		a.log.Info("drain timeout: closing the remaining xDS streams", "streams", len(a.Server.Nodes()))
		a.Server.Stop()
		<-done
	}
}
