package ha

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/internal/etcdcluster"
	"github.com/shardmesh/shardmesh/internal/proctest"
	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// The test fleet: one unsharded keyspace in one zone, a primary and two
// replicas, so that a replica read shows which replicas a client knows to
// be serving.
const (
	keyspace = "commerce"
	primary  = "zone1-0000000101"
	replicaA = "zone1-0000000102"
	replicaB = "zone1-0000000103"
)

var client = xdstest.Node{ID: "app-r1a", Region: "r1", Zone: "r1a"}

var replicaRead = []string{"x-tablet-type", "replica"}

// fleet is the test fleet's backends and the writes that change it.
type fleet struct {
	t        testing.TB
	backends xdstest.Backends
}

func newFleet(t testing.TB) *fleet {
	return &fleet{t: t, backends: xdstest.StartBackends(t, primary, replicaA, replicaB)}
}

// record is the tablet record of alias, serving or not.
func (f *fleet) record(alias, typ string, serving bool) string {
	state := "NOT_SERVING"
	if serving {
		state = "SERVING"
	}
	r := map[string]any{
		"keyspace": keyspace, "shard": "0", "type": typ, "cell": "zone1",
		"hostname": "127.0.0.1", "port_map": map[string]any{"grpc": f.backends[alias].Port},
		"state": state, "replication": "semi-sync", "replication_lag_seconds": 0.1,
		"serving_since": "2026-11-20T10:00:00Z", "primary_term_start": "2026-11-20T10:00:00Z",
	}
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// seed writes the cell and the tablets, with only replica A serving.
func (f *fleet) seed(cli *clientv3.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := cli.Txn(ctx).Then(
		clientv3.OpPut("/shardmesh/cells/zone1", `{"region":"r1","zone":"r1a"}`),
		clientv3.OpPut("/shardmesh/tablets/"+primary, f.record(primary, "primary", true)),
		clientv3.OpPut("/shardmesh/tablets/"+replicaA, f.record(replicaA, "replica", true)),
		clientv3.OpPut("/shardmesh/tablets/"+replicaB, f.record(replicaB, "replica", false)),
	).Commit()
	if err != nil {
		return fmt.Errorf("seed the fleet: %w", err)
	}
	return nil
}

// serveOnly makes alias the only serving replica, in one transaction.
func (f *fleet) serveOnly(ctx context.Context, cli *clientv3.Client, alias string) error {
	other := replicaA
	if alias == replicaA {
		other = replicaB
	}
	_, err := cli.Txn(ctx).Then(
		clientv3.OpPut("/shardmesh/tablets/"+alias, f.record(alias, "replica", true)),
		clientv3.OpPut("/shardmesh/tablets/"+other, f.record(other, "replica", false)),
	).Commit()
	if err != nil {
		return fmt.Errorf("serve only %s: %w", alias, err)
	}
	return nil
}

// startCluster starts an etcd cluster of n member processes.
func startCluster(t testing.TB, n int) *etcdcluster.Cluster {
	t.Helper()
	c, err := etcdcluster.Start(t, etcdBin, n)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startReplica starts an xds-server process on the cluster with extra
// flags, and waits until it serves the first topology.
func startReplica(t testing.TB, name string, c *etcdcluster.Cluster, flags ...string) *proctest.Replica {
	t.Helper()
	args := append([]string{"--etcd-endpoints=" + joinEndpoints(c.Endpoints()), "--log-level=debug"}, flags...)
	r, err := proctest.NewReplica(t, name, xdsServerBin, args...)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	return r
}

func joinEndpoints(eps []string) string {
	s := ""
	for i, e := range eps {
		if i > 0 {
			s += ","
		}
		s += e
	}
	return s
}

// routesTo waits until every one of 20 calls goes to want.
func routesTo(t testing.TB, c *xdstest.Client, timeout time.Duration, want string, headers ...string) {
	t.Helper()
	xdstest.Eventually(t, timeout, func() (bool, string) {
		got := c.Count(20, headers...)
		return got.Only(want), fmt.Sprintf("calls went to %v, want all to %s", got, want)
	})
}

func slicesSorted(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
