package app

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/pkg/topowatch"
	"github.com/shardmesh/shardmesh/pkg/vitesstopo"
)

// Topology sources (Config.Source, --source).
const (
	SourceShardmesh = "shardmesh" // shardmesh records under --etcd-prefix
	SourceVitess    = "vitess"    // a Vitess topology and its tablets' health streams
)

// VitessConfig configures the Vitess source. The Vitess topology is read
// from the same etcd (--etcd-endpoints) as the overlay under EtcdPrefix.
type VitessConfig struct {
	GlobalRoot    string        // Vitess global topology root, default /vitess/global
	HealthTimeout time.Duration // a silent health stream makes its tablet ineligible after this
}

func newVitessSource(cfg Config, cli *clientv3.Client, onHealth func(topowatch.Health), obs topowatch.Observer) *vitesstopo.Source {
	return vitesstopo.New(vitesstopo.Config{
		Client: cli, GlobalRoot: cfg.Vitess.GlobalRoot, OverlayPrefix: cfg.EtcdPrefix,
		HoldOff: cfg.HoldOff, MaxDelay: cfg.MaxDelay, HealthTimeout: cfg.Vitess.HealthTimeout,
		Clock: cfg.Clock, Logger: cfg.Logger, OnHealth: onHealth,
	}, obs)
}

// runSource runs the configured topology source until ctx ends.
func (a *App) runSource(ctx context.Context) error {
	if a.Vitess != nil {
		return a.Vitess.Run(ctx)
	}
	return a.Watcher.Run(ctx)
}

// SourceHealth is the health of the topology source's etcd connection
// (for the Vitess source, of its global root).
func (a *App) SourceHealth() topowatch.Health {
	if a.Vitess != nil {
		return a.Vitess.Health()
	}
	return a.Watcher.Health()
}
