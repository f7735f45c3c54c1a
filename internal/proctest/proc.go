package proctest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/freeport"
)

// Build compiles the main package pkg (an import path or ./dir relative to
// the current directory) into dir and returns the binary's path.
func Build(dir, pkg string) (string, error) {
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// Proc is a started process. Its methods are safe for concurrent use.
type Proc struct {
	Name string // for messages
	Log  string // path of the file holding its stdout and stderr

	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
	mu     sync.Mutex    // guards state
	state  *os.ProcessState
}

// Start starts bin with args in a new process group, its output appended to
// logPath. The test's cleanup kills the group and waits for the exit.
func Start(t testing.TB, name, logPath, bin string, args ...string) (*Proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		p.mu.Lock()
		p.state = cmd.ProcessState
		p.mu.Unlock()
		close(p.exited)
	}()
	t.Cleanup(func() { p.Kill() })
	return p, nil
}

// Pid is the process id (and process group id).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process group.
func (p *Proc) Signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// Kill sends SIGKILL to the process group and waits for the process to exit.
func (p *Proc) Kill() {
	p.Signal(syscall.SIGCONT) // a stopped process would not die before SIGCONT
	p.Signal(syscall.SIGKILL)
	<-p.exited
}

// Exited is closed when the process has exited.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Wait waits up to timeout for the process to exit and returns its state.
func (p *Proc) Wait(timeout time.Duration) (*os.ProcessState, error) {
	select {
	case <-p.exited:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.state, nil
	case <-time.After(timeout):
		return nil, fmt.Errorf("%s (pid %d) still running after %v", p.Name, p.Pid(), timeout)
	}
}

// Crashed reports whether the process exited by itself with a failure:
// a non-zero status or a signal other than the SIGKILL/SIGTERM tests send.
func (p *Proc) Crashed() (bool, string) {
	select {
	case <-p.exited:
	default:
		return false, ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ws, ok := p.state.Sys().(syscall.WaitStatus)
	if !ok {
		return false, ""
	}
	if ws.Signaled() {
		s := ws.Signal()
		return s != syscall.SIGKILL && s != syscall.SIGTERM, "signal " + s.String()
	}
	return ws.ExitStatus() != 0, fmt.Sprintf("exit status %d", ws.ExitStatus())
}

// Tail returns the last n bytes of the process's log, for failure messages.
func (p *Proc) Tail(n int) string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// FreeAddr returns 127.0.0.1:port with a port that is free now, below the
// kernel's ephemeral range (freeport.Addr): a process the tests stop and
// start again on the same port (an etcd member, an xds-server replica)
// must find it free.
func FreeAddr() (string, error) { return freeport.Addr("127.0.0.1") }

// ErrNotReady is returned by WaitTCP when nothing listens in time.
var ErrNotReady = errors.New("not listening")

// WaitTCP waits up to timeout for addr to accept TCP connections.
func WaitTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w after %v: %v", addr, ErrNotReady, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
