package etcdcluster

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/shardmesh/shardmesh/internal/proctest"
	"github.com/shardmesh/shardmesh/pkg/topowatch"
)

// MemberPackage is the main package of an etcd member, for proctest.Build.
const MemberPackage = "github.com/shardmesh/shardmesh/internal/etcdcluster/etcdmember"

// Member is one etcd member.
type Member struct {
	Name       string
	ClientAddr string // 127.0.0.1:port
	PeerAddr   string
	Dir        string // data directory, kept across restarts

	mu   sync.Mutex // guards proc
	proc *proctest.Proc
}

// Endpoint is the member's client URL.
func (m *Member) Endpoint() string { return "http://" + m.ClientAddr }

// Proc is the member's current process, nil before its first start.
func (m *Member) Proc() *proctest.Proc {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.proc
}

// Cluster is a running etcd cluster. Its methods may be called from any
// goroutine, but one fault at a time per member.
type Cluster struct {
	Members []*Member

	t       testing.TB
	bin     string
	initial string // the -initial-cluster value
	client  *clientv3.Client
}

// Start starts n members of bin (built from MemberPackage) and waits until
// the cluster answers a linearizable read. The test's cleanup stops them.
func Start(t testing.TB, bin string, n int) (*Cluster, error) {
	c := &Cluster{t: t, bin: bin}
	var peers []string
	for i := range n {
		ca, err := proctest.FreeAddr()
		if err != nil {
			return nil, err
		}
		pa, err := proctest.FreeAddr()
		if err != nil {
			return nil, err
		}
		m := &Member{Name: fmt.Sprintf("m%d", i), ClientAddr: ca, PeerAddr: pa, Dir: filepath.Join(t.TempDir(), "data")}
		c.Members = append(c.Members, m)
		peers = append(peers, m.Name+"=http://"+pa)
	}
	c.initial = strings.Join(peers, ",")
	for i := range c.Members {
		if err := c.StartMember(i); err != nil {
			return nil, err
		}
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: topowatch.DialOptions()})
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	c.client = cli
	t.Cleanup(func() { cli.Close() })
	if err := c.WaitHealthy(30 * time.Second); err != nil {
		return nil, err
	}
	return c, nil
}

// Endpoints are the client URLs of every member.
func (c *Cluster) Endpoints() []string {
	eps := make([]string, len(c.Members))
	for i, m := range c.Members {
		eps[i] = m.Endpoint()
	}
	return eps
}

// Client is a client of every member, owned by the cluster.
func (c *Cluster) Client() *clientv3.Client { return c.client }

// StartMember starts member i (again, after Kill or Stop) on its data and
// ports. It does not wait for the member to join.
func (c *Cluster) StartMember(i int) error {
	m := c.Members[i]
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.proc != nil {
		select {
		case <-m.proc.Exited():
		default:
			return fmt.Errorf("etcd member %s is running", m.Name)
		}
	}
	p, err := proctest.Start(c.t, "etcd "+m.Name, filepath.Join(filepath.Dir(m.Dir), "etcd.log"), c.bin,
		"-name", m.Name, "-data-dir", m.Dir, "-client", m.ClientAddr, "-peer", m.PeerAddr,
		"-initial-cluster", c.initial, "-tick-ms", "50", "-election-ms", "500")
	if err != nil {
		return err
	}
	m.proc = p
	return nil
}

// Kill sends SIGKILL to member i and waits for it to exit.
func (c *Cluster) Kill(i int) { c.Members[i].Proc().Kill() }

// Stop stops member i gracefully (SIGTERM), killing it after 10 s.
func (c *Cluster) Stop(i int) {
	p := c.Members[i].Proc()
	p.Signal(syscall.SIGTERM)
	if _, err := p.Wait(10 * time.Second); err != nil {
		p.Kill()
	}
}

// Running reports whether member i's process is alive.
func (c *Cluster) Running(i int) bool {
	select {
	case <-c.Members[i].Proc().Exited():
		return false
	default:
		return true
	}
}

// Leader returns the index of the member that is leader now, asking the
// running members.
func (c *Cluster) Leader(ctx context.Context) (int, error) {
	var errs []error
	for i, m := range c.Members {
		if !c.Running(i) {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := c.client.Status(sctx, m.Endpoint())
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("status of %s: %w", m.Name, err))
			continue
		}
		if st.Header.MemberId == st.Leader && st.Leader != 0 {
			return i, nil
		}
	}
	return -1, fmt.Errorf("no leader: %w", errors.Join(errs...))
}

// WaitHealthy waits up to timeout until a linearizable read succeeds and a
// leader is known.
func (c *Cluster) WaitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := c.client.Get(ctx, "health")
		if err == nil {
			_, err = c.Leader(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("etcd cluster not healthy after %v: %w", timeout, last)
}
