package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/embedetcd"
	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// TestEtcdLossIsFailStatic stops etcd under a running xds-server: routing
// must not change while it is gone, and the watch must resume (and pick up
// new writes) when it returns.
func TestEtcdLossIsFailStatic(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "commerce")
	routesTo(t, c, "zone1-0000000102", replicaMinus80...)
	revBefore := e.app.Cache.Topology().Revision

	etcdCfg := e.app.Etcd.Config()
	e.app.Etcd.Close()
	xdstest.Eventually(t, 15*time.Second, func() (bool, string) {
		h := e.app.Watcher.Health()
		return !h.Connected, "watcher still reports etcd connected"
	})
	if got := c.Count(50, replicaMinus80...); !got.Only("zone1-0000000102") {
		t.Errorf("with etcd down, replica reads went to %v, want all still to zone1-0000000102", got)
	}
	if got := c.Count(20, "x-shard", "80-"); !got.Only("zone2-0000000211") {
		t.Errorf("with etcd down, writes went to %v, want all still to zone2-0000000211", got)
	}
	if rev := e.app.Cache.Topology().Revision; rev != revBefore {
		t.Errorf("topology revision changed from %d to %d while etcd was down", revBefore, rev)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	restarted, err := embedetcd.Start(ctx, etcdCfg)
	if err != nil {
		t.Fatalf("restart etcd: %v", err)
	}
	e.app.Etcd = restarted // closed by the app's cleanup
	xdstest.Eventually(t, 15*time.Second, func() (bool, string) {
		return e.app.Watcher.Health().Connected, "watcher did not reconnect"
	})
	e.update("zone1-0000000102", map[string]any{"state": "NOT_SERVING"})
	routesTo(t, c, "zone2-0000000201", replicaMinus80...)
}
