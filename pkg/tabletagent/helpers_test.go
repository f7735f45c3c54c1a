package tabletagent

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/shardmesh/shardmesh/internal/embedetcd"
	"github.com/shardmesh/shardmesh/internal/mariadbtest"
	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

func TestMain(m *testing.M) { os.Exit(mariadbtest.Main(m)) }

// The agent's MySQL account, created on the primary with MariaDBGrants (it
// replicates to the replicas).
const (
	agentUser     = "shardmesh_agent"
	agentPassword = "agent-test-password"
	testInterval  = 200 * time.Millisecond
)

// fixture is a real MariaDB primary and replicas, and a real etcd.
type fixture struct {
	t        *testing.T
	etcd     *embedetcd.Server
	cli      *clientv3.Client
	primary  *mariadbtest.Server
	replicas []*mariadbtest.Server
}

// newFixture starts a primary and one replica per semiSync flag.
func newFixture(t *testing.T, semiSync ...bool) *fixture {
	t.Helper()
	f := &fixture{t: t}
	f.startEtcd(embedetcd.Config{Dir: t.TempDir(), ClientAddr: "127.0.0.1:0"})
	var err error
	f.cli, err = clientv3.New(clientv3.Config{Endpoints: f.etcd.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.cli.Close() })
	f.primary = mariadbtest.Start(t, "primary", 1)
	user := fmt.Sprintf("'%s'@'%%'", agentUser)
	f.primary.Exec(fmt.Sprintf("CREATE USER %s IDENTIFIED BY '%s'", user, agentPassword))
	f.primary.Exec(MariaDBGrants(user)...)
	for i, semi := range semiSync {
		r := mariadbtest.Start(t, fmt.Sprintf("replica%d", i+1), 2+i)
		mariadbtest.Replicate(f.primary, r, semi)
		f.replicas = append(f.replicas, r)
	}
	// The agent's account must be on the replicas before agents connect:
	// a session keeps the global privileges it logged in with.
	for _, r := range f.replicas {
		mariadbtest.WaitCaughtUp(f.primary, r)
	}
	return f
}

func (f *fixture) startEtcd(cfg embedetcd.Config) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := embedetcd.Start(ctx, cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(s.Close)
	f.etcd = s
}

// agent is an agent running in the test process.
type agent struct {
	*Agent
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // Run's result
}

// stop ends the agent as SIGTERM does (it drains) and returns Run's error.
func (a *agent) stop(t *testing.T) error {
	t.Helper()
	a.cancel()
	select {
	case <-a.done:
		return a.err
	case <-time.After(30 * time.Second):
		t.Fatal("agent still running 30s after its context ended")
		return nil
	}
}

// startAgent runs an agent of server s publishing alias.
func (f *fixture) startAgent(s *mariadbtest.Server, alias string, opts ...func(*Config)) *agent {
	f.t.Helper()
	cfg := Config{Alias: alias, Keyspace: "commerce", Shard: "-80", Hostname: "127.0.0.1",
		PortMap: map[string]uint32{"mysql": uint32(s.Port)}, Interval: testInterval, QueryTimeout: 2 * time.Second, LeaseTTL: 2 * time.Second,
		HeartbeatInterval: 50 * time.Millisecond, DrainPeriod: time.Millisecond, Logger: testLogger()}
	for _, o := range opts {
		o(&cfg)
	}
	mc, err := mysql.ParseDSN(s.DSN(agentUser, agentPassword))
	if err != nil {
		f.t.Fatal(err)
	}
	mc.Timeout = time.Second
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		f.t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	a, err := New(cfg, db, f.cli)
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ag := &agent{Agent: a, cancel: cancel, done: make(chan struct{})}
	go func() {
		ag.err = a.Run(ctx)
		close(ag.done)
	}()
	f.t.Cleanup(func() {
		cancel()
		select {
		case <-ag.done:
		case <-time.After(30 * time.Second):
		}
		db.Close()
	})
	return ag
}

func testLogger() *slog.Logger {
	if os.Getenv("AGENT_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// record returns the tablet record in etcd (nil when absent) and the
// revision it was last written at.
func (f *fixture) record(alias string) (*topology.Tablet, int64) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := f.cli.Get(ctx, "/shardmesh/"+topology.TabletsPrefix+alias)
	if err != nil {
		f.t.Fatalf("get %s: %v", alias, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0
	}
	t, err := topology.DecodeTablet(alias, resp.Kvs[0].Value)
	if err != nil {
		f.t.Fatalf("the agent wrote a record the control plane rejects: %v", err)
	}
	return t, resp.Kvs[0].ModRevision
}

// waitRecord waits until the record satisfies cond and returns it.
func (f *fixture) waitRecord(alias string, timeout time.Duration, want string, cond func(*topology.Tablet) bool) *topology.Tablet {
	f.t.Helper()
	var got *topology.Tablet
	xdstest.Eventually(f.t, timeout, func() (bool, string) {
		got, _ = f.record(alias)
		return got != nil && cond(got), fmt.Sprintf("tablet %s: want %s, record is %+v", alias, want, got)
	})
	return got
}

func serving(t *topology.Tablet) bool { return t.State == topology.StateServing && t.HealthError == "" }

func clientv3LeaseID(id int64) clientv3.LeaseID { return clientv3.LeaseID(id) }

// version is the number of puts of the tablet's key since it was created
// (a record recreated under a new lease counts as one more).
func (f *fixture) version(alias string) int64 {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := f.cli.Get(ctx, "/shardmesh/"+topology.TabletsPrefix+alias)
	if err != nil || len(resp.Kvs) != 1 {
		f.t.Fatalf("get %s: %v %v", alias, resp, err)
	}
	return resp.Kvs[0].Version
}
