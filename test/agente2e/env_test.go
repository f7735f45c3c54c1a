package agente2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/app"
	"github.com/shardmesh/shardmesh/internal/mariadbtest"
	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/tabletagent"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

// agentBin is cmd/tablet-agent, built once by TestMain.
var agentBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tablet-agent-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentBin = filepath.Join(dir, "tablet-agent")
	if out, err := exec.Command("go", "build", "-o", agentBin, "../../cmd/tablet-agent").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build tablet-agent: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := mariadbtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// The fleet: keyspace commerce, unsharded (shard 0), a primary and two
// replicas (the first semi-sync) of real MariaDB, one agent process each.
const (
	primary  = "zone1-0000000101"
	replica1 = "zone1-0000000102" // semi-sync
	replica2 = "zone2-0000000201" // async

	agentUser     = "shardmesh_agent"
	agentPassword = "agent-test-password"
	interval      = 500 * time.Millisecond
	leaseTTL      = 3 * time.Second
	drainPeriod   = 2 * time.Second
)

// Every test's keyspace policy: lag.max 2s, ramp over 6s from 10%.
const keyspacePolicy = `{"lag":{"degraded":"1s","max":"2s","min_serving":1},"ramp":{"window":"6s","min_weight_percent":10}%s}`

// A client with no locality: every replica is in its one priority.
var anywhere = xdstest.Node{ID: "app"}

var (
	replicaReads = []string{"x-tablet-type", "replica"}
	writes       = []string{"x-tablet-type", "primary"}
)

type env struct {
	t        *testing.T
	app      *app.App
	backends xdstest.Backends
	dbs      map[string]*mariadbtest.Server
	agents   map[string]*agentProc
}

// newEnv starts xds-server (embedded etcd), the gRPC tablets, MariaDB with
// replication and one agent per instance, and waits until all three
// tablets serve.
func newEnv(t *testing.T, schemaVersions string) *env {
	t.Helper()
	e := &env{t: t, backends: xdstest.StartBackends(t, primary, replica1, replica2),
		dbs: map[string]*mariadbtest.Server{}, agents: map[string]*agentProc{}}
	a, err := app.Start(context.Background(), app.Config{EmbeddedEtcdAddr: "127.0.0.1:0", EtcdDataDir: t.TempDir(),
		XDSAddr: "127.0.0.1:0", HoldOff: time.Millisecond, MaxDelay: 10 * time.Millisecond, Logger: testLogger()})
	if err != nil {
		t.Fatalf("start xds-server: %v", err)
	}
	t.Cleanup(a.Close)
	e.app = a
	e.put("cells/zone1", `{"region":"r1","zone":"r1a"}`)
	e.put("cells/zone2", `{"region":"r1","zone":"r1b"}`)
	e.setSchemaVersions(schemaVersions)

	p := mariadbtest.Start(t, "primary", 1)
	user := fmt.Sprintf("'%s'@'%%'", agentUser)
	p.Exec(fmt.Sprintf("CREATE USER %s IDENTIFIED BY '%s'", user, agentPassword))
	p.Exec(tabletagent.MariaDBGrants(user)...)
	p.Exec("CREATE DATABASE _shardmesh", "CREATE TABLE _shardmesh.schema_version (version VARCHAR(64) NOT NULL)",
		"INSERT INTO _shardmesh.schema_version VALUES ('v1')")
	e.dbs[primary] = p
	for i, alias := range []string{replica1, replica2} {
		r := mariadbtest.Start(t, fmt.Sprintf("replica%d", i+1), 2+i)
		mariadbtest.Replicate(p, r, alias == replica1)
		mariadbtest.WaitCaughtUp(p, r)
		e.dbs[alias] = r
	}
	for _, alias := range []string{primary, replica1, replica2} {
		e.startAgent(alias)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitReady(ctx); err != nil {
		t.Fatalf("xds-server never synced: %v", err)
	}
	for _, alias := range []string{primary, replica1, replica2} {
		e.waitRecord(alias, "SERVING", func(r *topology.Tablet) bool {
			return r.State == topology.StateServing && r.HealthError == "" && r.SchemaVersion == "v1"
		})
	}
	return e
}

func (e *env) setSchemaVersions(versions string) {
	extra := ""
	if versions != "" {
		extra = `,"schema_versions":` + versions
	}
	e.put("keyspaces/commerce", fmt.Sprintf(keyspacePolicy, extra))
}

func testLogger() *slog.Logger {
	if os.Getenv("E2E_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (e *env) put(key, value string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := e.app.Client.Put(ctx, "/shardmesh/"+key, value); err != nil {
		e.t.Fatalf("put %s: %v", key, err)
	}
}

// record returns the tablet's record in etcd, nil when there is none.
func (e *env) record(alias string) *topology.Tablet {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := e.app.Client.Get(ctx, "/shardmesh/"+topology.TabletsPrefix+alias)
	if err != nil {
		e.t.Fatalf("get %s: %v", alias, err)
	}
	if len(resp.Kvs) == 0 {
		return nil
	}
	r, err := topology.DecodeTablet(alias, resp.Kvs[0].Value)
	if err != nil {
		e.t.Fatalf("agent wrote a record the control plane rejects: %v", err)
	}
	return r
}

// waitRecord waits (15 s at most) until the record exists and satisfies cond.
func (e *env) waitRecord(alias, want string, cond func(*topology.Tablet) bool) *topology.Tablet {
	e.t.Helper()
	var r *topology.Tablet
	xdstest.Eventually(e.t, 15*time.Second, func() (bool, string) {
		r = e.record(alias)
		return r != nil && cond(r), fmt.Sprintf("tablet %s: want %s, record %+v", alias, want, r)
	})
	return r
}

func (e *env) dial() *xdstest.Client {
	return xdstest.Dial(e.t, e.app.XDSAddr.String(), anywhere, "commerce", e.backends)
}

// agentProc is a tablet-agent process.
type agentProc struct {
	alias string
	cmd   *exec.Cmd
	done  chan struct{}
	mu    sync.Mutex // guards log
	log   bytes.Buffer
}

func (p *agentProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Write(b)
}

// startAgent runs cmd/tablet-agent for the instance of alias.
func (e *env) startAgent(alias string) *agentProc {
	e.t.Helper()
	db := e.dbs[alias]
	cell, _, _ := topology.ParseAlias(alias)
	cmd := exec.Command(agentBin, "--alias", alias, "--cell", cell, "--keyspace", "commerce", "--shard", "0",
		"--hostname", "127.0.0.1", "--port-map", fmt.Sprintf("grpc=%d,mysql=%d", e.backends[alias].Port, db.Port),
		"--mysql-dsn", fmt.Sprintf("%s@tcp(127.0.0.1:%d)/", agentUser, db.Port),
		"--etcd-endpoints", e.app.Etcd.Endpoints()[0], "--interval", interval.String(),
		"--heartbeat-interval", "100ms", "--lease-ttl", leaseTTL.String(), "--drain", drainPeriod.String(),
		"--log-level", "debug")
	cmd.Env = append(os.Environ(), "SHARDMESH_MYSQL_PASSWORD="+agentPassword)
	p := &agentProc{alias: alias, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p, p
	cmd.SysProcAttr = mariadbtest.ProcAttr()
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("start agent %s: %v", alias, err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	e.agents[alias] = p
	e.t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		<-p.done
		if e.t.Failed() || os.Getenv("E2E_LOG") != "" {
			p.mu.Lock()
			e.t.Logf("agent %s log:\n%s", alias, p.log.String())
			p.mu.Unlock()
		}
	})
	return p
}

func (p *agentProc) signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *agentProc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("agent %s still running after %v", p.alias, timeout)
		return -1
	}
}

// share is the fraction of counted calls that alias served.
func share(c xdstest.Counts, alias string) float64 {
	if c.Total() == 0 {
		return 0
	}
	return float64(c[alias]) / float64(c.Total())
}

func (p *agentProc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}
