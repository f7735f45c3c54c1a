package e2e

// xDS clients that run in their own process (grpc-js-xds in Node, gRPC
// C-core in Python), driven over stdin/stdout: each stdin line is a
// command {"n":20,"headers":{...}}, answered by one stdout line listing
// which tablet served each call and how the others failed.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// procClient is an xDS client of one keyspace in its own process, which
// makes the calls the test asks for.
type procClient struct {
	name     string // the client family, for messages
	stdin    io.Writer
	lines    <-chan []byte // stdout, one answer per line; closed when the process exits
	stderr   *lockedBuffer
	backends xdstest.Backends
}

// procAnswer is a client process's answer to one command. Peer is empty
// when the client's API cannot tell it (C-core's Python client side).
type procAnswer struct {
	Peers []struct {
		Peer     string `json:"peer"`
		ServerID string `json:"server_id"`
	} `json:"peers"`
	Errors []struct {
		Code    codes.Code `json:"code"`
		Details string     `json:"details"`
	} `json:"errors"`
}

// dialProcess starts argv as an xDS client with the node's identity in
// GRPC_XDS_BOOTSTRAP_CONFIG; the process group is killed when the test
// ends.
func (e *env) dialProcess(n xdstest.Node, keyspace, name string, argv ...string) *procClient {
	t := e.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GRPC_XDS_BOOTSTRAP") { // GRPC_XDS_BOOTSTRAP would win over ours
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GRPC_XDS_BOOTSTRAP_CONFIG="+string(xdstest.Bootstrap(e.app.XDSAddr.String(), n)))
	c := &procClient{name: name, stderr: &lockedBuffer{}, backends: e.backends}
	cmd.Stderr = c.stderr
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s client %v: %v", name, argv, err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() && c.stderr.Len() > 0 {
			t.Logf("%s client %s (%s) stderr:\n%s", name, n.ID, keyspace, c.stderr)
		}
	})
	lines := make(chan []byte)
	go func() {
		defer close(lines)
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return
			}
			lines <- line
		}
	}()
	c.stdin, c.lines = stdin, lines
	return c
}

// Count makes n calls with the given header pairs (name, value, ...) and
// returns how many each tablet served, failures counted under their status
// code as xdstest.Client.Count does. A broken driver fails t.
func (c *procClient) Count(t testing.TB, n int, headers ...string) xdstest.Counts {
	t.Helper()
	hs := map[string]string{}
	for i := 0; i+1 < len(headers); i += 2 {
		hs[headers[i]] = headers[i+1]
	}
	cmd, err := json.Marshal(map[string]any{"n": n, "headers": hs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.stdin.Write(append(cmd, '\n')); err != nil {
		t.Fatalf("%s client: write command: %v\nstderr:\n%s", c.name, err, c.stderr)
	}
	var line []byte
	select {
	case l, ok := <-c.lines:
		if !ok {
			t.Fatalf("%s client exited; stderr:\n%s", c.name, c.stderr)
		}
		line = l
	case <-time.After(time.Duration(n)*2*time.Second + 10*time.Second): // each call has a 2 s deadline
		t.Fatalf("%s client: no answer to %s; stderr:\n%s", c.name, cmd, c.stderr)
	}
	var a procAnswer
	if err := json.Unmarshal(line, &a); err != nil {
		t.Fatalf("%s client: answer %q: %v", c.name, line, err)
	}
	counts := xdstest.Counts{}
	for _, p := range a.Peers {
		if c.backends[p.ServerID] == nil {
			t.Fatalf("%s client: a call was answered by %q, no tablet of the fleet", c.name, p.ServerID)
		}
		if p.Peer != "" && c.backends.ByAddr(p.Peer) != p.ServerID {
			t.Fatalf("%s client: peer %q is tablet %q but the server says %q", c.name, p.Peer, c.backends.ByAddr(p.Peer), p.ServerID)
		}
		counts[p.ServerID]++
	}
	for _, e := range a.Errors {
		counts[e.Code.String()]++
	}
	return counts
}

// lockedBuffer collects a process's stderr while tests read it.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// procCounter is a client process as a counter (split_test.go).
type procCounter struct {
	t *testing.T
	c *procClient
}

// Count implements counter.
func (p procCounter) Count(calls int, headers ...string) xdstest.Counts {
	return p.c.Count(p.t, calls, headers...)
}
