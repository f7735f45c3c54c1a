package tabletagent

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

// TestEtcdOutage: while etcd is down the agent keeps probing at its
// interval; what changed meanwhile is written when etcd is back.
func TestEtcdOutage(t *testing.T) {
	f := newFixture(t, false)
	ra := f.startAgent(f.replicas[0], asyncAlias, func(c *Config) { c.EtcdTimeout = time.Second })
	f.waitRecord(asyncAlias, 10*time.Second, "serving", serving)

	cfg := f.etcd.Config()
	f.etcd.Close()
	f.replicas[0].Exec("STOP SLAVE SQL_THREAD")
	// Probing goes on at its interval although every etcd write times out.
	start, n := time.Now(), ra.probes.Load()
	xdstest.Eventually(t, 20*time.Second, func() (bool, string) {
		return ra.probes.Load() >= n+10, "agent stopped probing while etcd is down"
	})
	if d := time.Since(start); d > 10*testInterval*3 {
		t.Errorf("10 probes took %v with etcd down, want about %v", d, 10*testInterval)
	}

	f.startEtcd(cfg)
	r := f.waitRecord(asyncAlias, 15*time.Second, "NOT_SERVING written after the outage", func(r *topology.Tablet) bool {
		return r.State == topology.StateNotServing
	})
	if !strings.Contains(r.HealthError, "SQL thread not running") {
		t.Errorf("health_error %q, want the stopped SQL thread", r.HealthError)
	}
	// And the record still lives under a kept-alive lease.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := f.cli.Get(ctx, "/shardmesh/"+topology.TabletsPrefix+asyncAlias)
	if err != nil || len(resp.Kvs) == 0 || resp.Kvs[0].Lease == 0 {
		t.Fatalf("record after the outage: %v %v, want one under a lease", resp, err)
	}
	lease := resp.Kvs[0].Lease
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		ttl, err := f.cli.TimeToLive(ctx, clientv3LeaseID(lease))
		return err == nil && ttl.TTL > 0 && ra.probes.Load() > n+20, fmt.Sprintf("lease %x: %v %v", lease, ttl, err)
	})
}
