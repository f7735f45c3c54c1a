package ha

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/topowatch"
)

// recoveryTrials and recoveryTarget: the figure, p99 of 20 trials.
const (
	recoveryTrials = 20
	recoveryTarget = time.Second
)

// TestRecoveryAfterEtcdRestart kills the only etcd member under a running
// xds-server process, keeps it down for 0.3 s to 2.5 s, restarts it and
// writes a change: a grpc-go xDS client must route by the change within 1 s
// of the write (p99 of 20 trials), however long the outage was.
func TestRecoveryAfterEtcdRestart(t *testing.T) {
	c := startCluster(t, 1)
	f := newFleet(t)
	if err := f.seed(c.Client()); err != nil {
		t.Fatal(err)
	}
	r := startReplica(t, "xds-0", c)
	cl := xdstest.Dial(t, r.XDSAddr, client, keyspace, f.backends)
	routesTo(t, cl, 10*time.Second, replicaA, replicaRead...)

	serving := replicaA
	var fromWrite, fromRestart []time.Duration
	for i := range recoveryTrials {
		outage := time.Duration(300+(i*433)%2200) * time.Millisecond
		c.Kill(0)
		<-time.After(outage) // the fault's length, not a synchronisation
		restarted := time.Now()
		if err := c.StartMember(0); err != nil {
			t.Fatal(err)
		}
		next := replicaB
		if serving == replicaB {
			next = replicaA
		}
		written, err := writeWhenBack(c.Endpoints(), func(ctx context.Context, cli *clientv3.Client) error {
			return f.serveOnly(ctx, cli, next)
		})
		if err != nil {
			if !c.Running(0) {
				err = fmt.Errorf("%w; the member exited: %s", err, c.Members[0].Proc().Tail(2000))
			}
			t.Fatalf("trial %d: %v", i, err)
		}
		seen := firstCallTo(t, cl, next, written.Add(10*time.Second))
		serving = next
		fromWrite = append(fromWrite, seen.Sub(written))
		fromRestart = append(fromRestart, seen.Sub(restarted))
		t.Logf("trial %2d: outage %v, etcd back after %v, change seen %v after the write",
			i, outage, written.Sub(restarted).Round(time.Millisecond), seen.Sub(written).Round(time.Millisecond))
	}
	p50, p99 := percentiles(fromWrite)
	r50, r99 := percentiles(fromRestart)
	t.Logf("write -> client routes by it: p50 %v, p99 %v; member restart -> client routes by the change: p50 %v, p99 %v",
		p50, p99, r50, r99)
	if p99 > recoveryTarget {
		t.Errorf("after etcd came back, a change took %v (p99 of %d trials) to reach the client, want <= %v",
			p99, recoveryTrials, recoveryTarget)
	}
}

// writeWhenBack retries write on a fresh etcd client until it succeeds and
// returns when it did; it gives up 30 s after it started.
func writeWhenBack(endpoints []string, write func(context.Context, *clientv3.Client) error) (time.Time, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: time.Second, Logger: zap.NewNop(),
		DialOptions: topowatch.DialOptions()})
	if err != nil {
		return time.Time{}, err
	}
	defer cli.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := write(ctx, cli)
		cancel()
		if err == nil {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("etcd did not take a write within 30 s of its restart: %w", err)
		}
	}
}

// firstCallTo makes replica reads until one is served by want and returns
// when; it fails the test at the deadline.
func firstCallTo(t *testing.T, c *xdstest.Client, want string, deadline time.Time) time.Time {
	t.Helper()
	var last string
	for time.Now().Before(deadline) {
		alias, err := c.Call(context.Background(), replicaRead...)
		if alias == want {
			return time.Now()
		}
		last = alias
		if err != nil {
			last = err.Error()
		}
	}
	t.Fatalf("no replica read reached %s before the deadline; the last went to %s", want, last)
	return time.Time{}
}

// percentiles returns the median and the 99th percentile (nearest rank).
func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))].Round(time.Millisecond)
	}
	return rank(0.50), rank(0.99)
}
