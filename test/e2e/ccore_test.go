package e2e

// The third proxyless xDS client: gRPC C-core, through Debian's
// python3-grpcio (test/python/client.py). C-core is the xDS client of
// Python, C++, Ruby and PHP; Debian 12 ships release 1.51, from before
// gRFC A63, so it also proves that old clients get resources they accept.

import (
	"os"
	"os/exec"
	"testing"

	"google.golang.org/grpc"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/clients"
	"github.com/shardmesh/shardmesh/pkg/xdsserver"
)

// pythonDir is test/python, relative to this package's directory.
const pythonDir = "../python"

// debianPython is the interpreter python3-grpcio is installed for: not a
// python3 that PATH may find first (pyenv, venv).
const debianPython = "/usr/bin/python3"

// dialCCore starts a C-core xDS client of xds:///<keyspace> with the node's
// identity; the process is killed when the test ends. A missing
// python3-grpcio fails the test: it is part of the suite (make test
// installs it).
func (e *env) dialCCore(n xdstest.Node, keyspace string) *procClient {
	e.t.Helper()
	if out, err := exec.Command(debianPython, "-c", "import grpc").CombinedOutput(); err != nil {
		e.t.Fatalf("python3-grpcio is not installed (%v: %s): run `make deps` (make test does)", err, out)
	}
	if _, err := os.Stat(pythonDir + "/client.py"); err != nil {
		e.t.Fatal(err)
	}
	return e.dialProcess(n, keyspace, "c-core", debianPython, "-u", pythonDir+"/client.py", keyspace)
}

// TestEachClientGetsItsEncoding: a C-core 1.51 client and a current
// grpc-go client in the same zone are told apart by what they announce,
// get different node groups (legacy-core and current encoding), both route, and
// /debug/nodes shows each one's family, release and encoding.
func TestEachClientGetsItsEncoding(t *testing.T) {
	e := newEnv(t)
	goNode, coreNode := inR1A, inR1A
	goNode.ID, coreNode.ID = "app-go", "app-core"
	eventuallyOnly(t, e.dial(goNode, "commerce"), one("zone1-0000000101"), "x-shard", "-80")
	eventuallyOnly(t, procCounter{t, e.dialCCore(coreNode, "commerce")}, one("zone1-0000000101"), "x-shard", "-80")
	want := map[string]struct {
		group  string
		client clients.Client
	}{
		"app-go":   {"grpc/r1/r1a/", clients.Client{Family: clients.GRPCGo, Version: grpc.Version, Encoding: clients.Current}},
		"app-core": {"grpc+legacy-core/r1/r1a/", clients.Client{Family: clients.GRPCCore, Version: "1.51.1", Encoding: clients.LegacyCore}},
	}
	var nodes []xdsserver.NodeStatus
	e.admin("/debug/nodes", &nodes)
	seen := 0
	for _, n := range nodes {
		w, ok := want[n.NodeID]
		if !ok {
			continue
		}
		seen++
		if n.Group != w.group || n.Client != w.client {
			t.Errorf("/debug/nodes: %s is in group %q as %v, want group %q as %v", n.NodeID, n.Group, n.Client, w.group, w.client)
		}
	}
	if seen != len(want) {
		t.Errorf("/debug/nodes lists %d of the 2 clients: %+v", seen, nodes)
	}
}
