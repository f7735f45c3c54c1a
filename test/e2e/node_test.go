package e2e

// A second proxyless xDS client: grpc-js-xds, run as a Node process
// (test/node/client.js). The same control plane output must route it as it
// routes grpc-go, so these tests mirror the grpc-go ones.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// nodeDir is test/node, relative to this package's directory (go test's cwd).
const nodeDir = "../node"

// nodeClient is a grpc-js-xds client of one keyspace in its own node
// process, which makes the calls the test asks for.
type nodeClient struct {
	stdin    io.Writer
	lines    <-chan []byte // stdout, one answer per line; closed when the process exits
	stderr   *lockedBuffer
	backends xdstest.Backends
}

// nodeAnswer is client.js's answer to one command.
type nodeAnswer struct {
	Peers []struct {
		Peer     string `json:"peer"`
		ServerID string `json:"server_id"`
	} `json:"peers"`
	Errors []struct {
		Code    codes.Code `json:"code"`
		Details string     `json:"details"`
	} `json:"errors"`
}

// dialNode starts a grpc-js-xds client of xds:///<keyspace> with the node's
// identity; the process is killed when the test ends. Missing Node
// dependencies fail the test: they are part of the suite.
func (e *env) dialNode(n xdstest.Node, keyspace string) *nodeClient {
	t := e.t
	t.Helper()
	if _, err := os.Stat(nodeDir + "/node_modules/@grpc/grpc-js-xds"); err != nil {
		t.Fatalf("grpc-js-xds is not installed (%v): run `npm ci --prefix test/node` (make test does)", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", nodeDir+"/client.js", keyspace)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GRPC_XDS_BOOTSTRAP") { // GRPC_XDS_BOOTSTRAP would win over ours
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GRPC_XDS_BOOTSTRAP_CONFIG="+string(xdstest.Bootstrap(e.app.XDSAddr.String(), n)))
	c := &nodeClient{stderr: &lockedBuffer{}, backends: e.backends}
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
		t.Fatalf("start node client (is node installed?): %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() && c.stderr.Len() > 0 {
			t.Logf("node client %s (%s) stderr:\n%s", n.ID, keyspace, c.stderr)
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
func (c *nodeClient) Count(t testing.TB, n int, headers ...string) xdstest.Counts {
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
		t.Fatalf("node client: write command: %v\nstderr:\n%s", err, c.stderr)
	}
	var line []byte
	select {
	case l, ok := <-c.lines:
		if !ok {
			t.Fatalf("node client exited; stderr:\n%s", c.stderr)
		}
		line = l
	case <-time.After(time.Duration(n)*2*time.Second + 10*time.Second): // each call has a 2 s deadline
		t.Fatalf("node client: no answer to %s; stderr:\n%s", cmd, c.stderr)
	}
	var a nodeAnswer
	if err := json.Unmarshal(line, &a); err != nil {
		t.Fatalf("node client: answer %q: %v", line, err)
	}
	counts := xdstest.Counts{}
	for _, p := range a.Peers {
		alias := c.backends.ByAddr(p.Peer)
		if alias == "" || alias != p.ServerID {
			t.Fatalf("node client: peer %q is tablet %q but the server says %q", p.Peer, alias, p.ServerID)
		}
		counts[alias]++
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

// nodeRoutesTo waits until every one of 20 calls goes to one of want.
func nodeRoutesTo(t *testing.T, c *nodeClient, want []string, headers ...string) {
	t.Helper()
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		got := c.Count(t, 20, headers...)
		return got.Only(want...), fmt.Sprintf("headers %q: calls went to %v, want all to %v", headers, got, want)
	})
}

func one(alias string) []string { return []string{alias} }

func TestNodeHeadersSelectShardAndTabletType(t *testing.T) {
	e := newEnv(t)
	c := e.dialNode(inR1A, "commerce")
	nodeRoutesTo(t, c, one("zone1-0000000101"), "x-shard", "-80")
	for name, tc := range headerCases {
		t.Run(name, func(t *testing.T) {
			if got := c.Count(t, 20, tc.headers...); !got.Only(tc.want) {
				t.Errorf("calls went to %v, want all to %s", got, tc.want)
			}
		})
	}
	t.Run("unsharded keyspace needs no shard header", func(t *testing.T) {
		u := e.dialNode(inR2A, "customer")
		nodeRoutesTo(t, u, one("zone1-0000000121"))
		nodeRoutesTo(t, u, one("zone3-0000000321"), "x-tablet-type", "replica")
	})
}

// TestNodeReplicaReadsFailOverZoneRegionAndBack mirrors
// TestReplicaReadsFailOverZoneRegionAndBack with grpc-js clients.
func TestNodeReplicaReadsFailOverZoneRegionAndBack(t *testing.T) {
	e := newEnv(t)
	a, b := e.dialNode(inR1A, "commerce"), e.dialNode(inR1B, "commerce")
	nodeRoutesTo(t, a, one("zone1-0000000102"), replicaMinus80...)
	nodeRoutesTo(t, b, one("zone2-0000000201"), replicaMinus80...)

	e.update("zone1-0000000102", map[string]any{"state": "NOT_SERVING"})
	nodeRoutesTo(t, a, one("zone2-0000000201"), replicaMinus80...) // same region, other zone
	nodeRoutesTo(t, b, one("zone2-0000000201"), replicaMinus80...) // unaffected

	e.update("zone2-0000000201", map[string]any{"state": "NOT_SERVING"})
	nodeRoutesTo(t, a, one("zone3-0000000301"), replicaMinus80...) // other region
	nodeRoutesTo(t, b, one("zone3-0000000301"), replicaMinus80...)

	e.update("zone1-0000000102", map[string]any{"state": "SERVING"})
	e.update("zone2-0000000201", map[string]any{"state": "SERVING"})
	nodeRoutesTo(t, a, one("zone1-0000000102"), replicaMinus80...)
	nodeRoutesTo(t, b, one("zone2-0000000201"), replicaMinus80...)
}

// TestNodeProportionalSpillMatchesEnvoy mirrors
// TestProportionalSpillMatchesEnvoy: with one of its zone's two replicas
// down, a grpc-js client keeps 70% of its reads in the zone.
func TestNodeProportionalSpillMatchesEnvoy(t *testing.T) {
	e := newEnv(t)
	c := e.dialNode(inR1A, "orders")
	replica := []string{"x-tablet-type", "replica"}
	local := []string{"zone1-0000000401", "zone1-0000000402"}
	nodeRoutesTo(t, c, local, replica...)
	got := matchesEnvoy(t, e, nodeCounter{t, c}, inR1A, "orders", "0", weights.ClassReplica, replica...)
	t.Logf("healthy zone: grpc-js measured %v", got)

	e.update("zone1-0000000402", map[string]any{"state": "NOT_SERVING"})
	waitRevision(t, e)
	want := envoySplit(t, e, inR1A, "orders", "0", weights.ClassReplica)
	if math.Abs(want["zone1-0000000401"]-0.7) > 1e-9 || math.Abs(want["zone2-0000000403"]-0.3) > 1e-9 {
		t.Fatalf("Envoy's formula gives %v, want 70%% zone1-0000000401 / 30%% zone2-0000000403", want)
	}
	got = matchesEnvoy(t, e, nodeCounter{t, c}, inR1A, "orders", "0", weights.ClassReplica, replica...)
	t.Logf("one of two local replicas down: grpc-js measured %v over %d calls, Envoy's formula %v", got, got.Total(), want)
}

// nodeCounter is a grpc-js client as a counter, for matchesEnvoy.
type nodeCounter struct {
	t *testing.T
	c *nodeClient
}

func (n nodeCounter) Count(calls int, headers ...string) xdstest.Counts {
	return n.c.Count(n.t, calls, headers...)
}

// TestNodeNoSafeTabletFailsTheCall: with no safe tablet for a request,
// grpc-js calls fail with UNAVAILABLE and no tablet serves them.
func TestNodeNoSafeTabletFailsTheCall(t *testing.T) {
	e := newEnv(t)
	c := e.dialNode(inR1A, "commerce")
	nodeRoutesTo(t, c, one("zone1-0000000101"), "x-shard", "-80")

	// noTabletServes makes n calls and checks they all fail with
	// UNAVAILABLE while no backend's call count moves.
	noTabletServes := func(t *testing.T, n int, headers ...string) {
		t.Helper()
		before := map[string]int{}
		for alias, b := range e.backends {
			before[alias] = b.Calls()
		}
		if got := c.Count(t, n, headers...); !got.Only(xdstest.Unavailable) {
			t.Errorf("headers %q: calls went to %v, want all to fail with %s", headers, got, xdstest.Unavailable)
		}
		for alias, b := range e.backends {
			if n := b.Calls() - before[alias]; n > 0 {
				t.Errorf("headers %q: tablet %s served %d calls", headers, alias, n)
			}
		}
	}
	t.Run("unknown shard", func(t *testing.T) {
		noTabletServes(t, 20, "x-shard", "c0-")
	})
	t.Run("no rdonly tablets", func(t *testing.T) {
		noTabletServes(t, 20, "x-tablet-type", "rdonly", "x-shard", "-80")
	})
	t.Run("every tablet of the shard NOT_SERVING", func(t *testing.T) {
		// Writes are retried on UNAVAILABLE for the keyspace's buffer
		// window (10 s by default, past the calls' 2 s deadline); a short
		// window makes them end with UNAVAILABLE, as reads do, after
		// about 300 ms each.
		e.put("keyspaces/commerce", `{"lag":{"degraded":"5s","max":"30s","min_serving":1},"buffer_window":"300ms"}`)
		for _, alias := range []string{"zone1-0000000101", "zone1-0000000102", "zone2-0000000201", "zone3-0000000301"} {
			e.update(alias, map[string]any{"state": "NOT_SERVING"})
		}
		waitRevision(t, e)
		nodeRoutesTo(t, c, one(xdstest.Unavailable), replicaMinus80...)
		xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
			got := c.Count(t, 3, "x-shard", "-80")
			return got.Only(xdstest.Unavailable), fmt.Sprintf("writes went to %v, want all to fail with %s", got, xdstest.Unavailable)
		})
		noTabletServes(t, 20, replicaMinus80...)
		noTabletServes(t, 5, "x-shard", "-80")
		noTabletServes(t, 5, "x-tablet-type", "read-after-write", "x-shard", "-80")
		// The other shard is unaffected.
		nodeRoutesTo(t, c, one("zone2-0000000211"), "x-shard", "80-")
	})
}
