package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	"github.com/shardmesh/shardmesh/internal/mariadbtest"
	"github.com/shardmesh/shardmesh/pkg/tabletagent"
)

// The fleet: keyspace commerce, unsharded, on real MariaDB: a primary and
// two replicas, the first semi-sync.
const (
	primary  = "zone1-0000000101"
	replica1 = "zone1-0000000102"
	replica2 = "zone2-0000000201"

	agentUser     = "shardmesh_agent"
	agentPassword = "demo-agent-password"
	probeInterval = 500 * time.Millisecond
)

var aliases = []string{primary, replica1, replica2}

// harness runs mariadbtest outside a test: a fatal error panics with
// fatal, which run recovers; cleanups run when the demo ends.
type harness struct{ cleanups []func() }

type fatal struct{ err error }

func (h *harness) Helper()                        {}
func (h *harness) Fatalf(format string, a ...any) { panic(fatal{fmt.Errorf(format, a...)}) }
func (h *harness) Skipf(format string, a ...any)  { panic(fatal{fmt.Errorf(format, a...)}) }
func (h *harness) Errorf(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
func (h *harness) Cleanup(f func())               { h.cleanups = append(h.cleanups, f) }
func (h *harness) close() {
	for i := len(h.cleanups) - 1; i >= 0; i-- {
		h.cleanups[i]()
	}
	mariadbtest.RemoveTemplate()
}

// tablet is one MariaDB instance, the gRPC server standing for the
// tablet's application port, and the agent publishing its record.
type tablet struct {
	alias string
	db    *mariadbtest.Server
	port  uint32 // gRPC
	srv   *grpc.Server
	stop  context.CancelFunc // drains the agent
	done  chan struct{}      // closed when the agent's Run returned
}

type backend struct {
	testgrpc.UnimplementedTestServiceServer
	alias string
}

func (b backend) UnaryCall(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return &testgrpc.SimpleResponse{ServerId: b.alias}, nil
}

// startFleet starts MariaDB with replication and the gRPC servers.
func startFleet(h *harness) (map[string]*tablet, error) {
	fleet := map[string]*tablet{}
	for i, alias := range aliases {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		t := &tablet{alias: alias, port: uint32(lis.Addr().(*net.TCPAddr).Port), srv: grpc.NewServer()}
		testgrpc.RegisterTestServiceServer(t.srv, backend{alias: alias})
		go func() { _ = t.srv.Serve(lis) }()
		h.Cleanup(t.srv.Stop)
		t.db = mariadbtest.Start(h, fmt.Sprintf("demo%d", i+1), i+1)
		fleet[alias] = t
	}
	p := fleet[primary].db
	user := fmt.Sprintf("'%s'@'%%'", agentUser)
	p.Exec(fmt.Sprintf("CREATE USER %s IDENTIFIED BY '%s'", user, agentPassword))
	p.Exec(tabletagent.MariaDBGrants(user)...)
	p.Exec("CREATE DATABASE _shardmesh", "CREATE TABLE _shardmesh.schema_version (version VARCHAR(64) NOT NULL)",
		"INSERT INTO _shardmesh.schema_version VALUES ('v1')")
	for _, alias := range []string{replica1, replica2} {
		mariadbtest.Replicate(p, fleet[alias].db, alias == replica1)
		mariadbtest.WaitCaughtUp(p, fleet[alias].db)
	}
	return fleet, nil
}

// startAgent runs the tablet's agent in this process until t.stop.
func (t *tablet) startAgent(h *harness, cli *clientv3.Client, log *slog.Logger) error {
	mc, err := mysql.ParseDSN(t.db.DSN(agentUser, agentPassword))
	if err != nil {
		return err
	}
	mc.Timeout = time.Second
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	h.Cleanup(func() { db.Close() })
	a, err := tabletagent.New(tabletagent.Config{Alias: t.alias, Keyspace: "commerce", Shard: "0", Hostname: "127.0.0.1",
		PortMap: map[string]uint32{"grpc": t.port, "mysql": uint32(t.db.Port)}, Interval: probeInterval,
		LeaseTTL: 3 * time.Second, DrainPeriod: 2 * time.Second, Logger: log}, db, cli)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.stop, t.done = cancel, make(chan struct{})
	go func() {
		if err := a.Run(ctx); err != nil {
			log.Error("agent", "tablet", t.alias, "err", err)
		}
		close(t.done)
	}()
	h.Cleanup(func() {
		cancel()
		select {
		case <-t.done:
		case <-time.After(10 * time.Second):
		}
	})
	return nil
}
