package proctest

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// XDSServerPackage is xds-server's main package, for Build.
const XDSServerPackage = "github.com/shardmesh/shardmesh/cmd/xds-server"

// Replica is an xds-server replica run as a separate process on fixed
// 127.0.0.1 ports, so that it comes back on the same address after a kill.
type Replica struct {
	Name      string
	XDSAddr   string
	AdminAddr string

	t    testing.TB
	bin  string
	args []string
	mu   sync.Mutex // guards proc
	proc *Proc
}

// NewReplica picks the replica's ports; Start starts it. args are extra
// xds-server flags (--etcd-endpoints, ...).
func NewReplica(t testing.TB, name, bin string, args ...string) (*Replica, error) {
	x, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	a, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	return &Replica{Name: name, XDSAddr: x, AdminAddr: a, t: t, bin: bin, args: args}, nil
}

// Start starts the replica and waits up to timeout for /readyz to answer
// 200 (the first topology sync is served).
func (r *Replica) Start(timeout time.Duration) error {
	args := append([]string{"--xds-addr=" + r.XDSAddr, "--admin-addr=" + r.AdminAddr}, r.args...)
	p, err := Start(r.t, r.Name, filepath.Join(r.t.TempDir(), r.Name+".log"), r.bin, args...)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.proc = p
	r.mu.Unlock()
	return r.WaitReady(timeout)
}

// WaitReady waits up to timeout for /readyz to answer 200.
func (r *Replica) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	cli := http.Client{Timeout: time.Second}
	for {
		resp, err := cli.Get("http://" + r.AdminAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/readyz: %s", resp.Status)
		}
		select {
		case <-r.Proc().Exited():
			return fmt.Errorf("%s exited while starting: %s", r.Name, r.Proc().Tail(2000))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %w", r.Name, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Proc is the replica's current process.
func (r *Replica) Proc() *Proc {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.proc
}

// Signal sends sig to the replica's process group.
func (r *Replica) Signal(sig syscall.Signal) { r.Proc().Signal(sig) }

// Kill kills the replica with SIGKILL and waits for it to exit.
func (r *Replica) Kill() { r.Proc().Kill() }
