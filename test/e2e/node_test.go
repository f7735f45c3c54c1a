package e2e

// A second proxyless xDS client: grpc-js-xds, run as a Node process
// (test/node/client.js). The parity table (parity_test.go) runs it through
// the same scenarios as grpc-go and C-core.

import (
	"os"

	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// nodeDir is test/node, relative to this package's directory (go test's cwd).
const nodeDir = "../node"

// dialNode starts a grpc-js-xds client of xds:///<keyspace> with the node's
// identity; the process is killed when the test ends. Missing Node
// dependencies fail the test: they are part of the suite.
func (e *env) dialNode(n xdstest.Node, keyspace string) *procClient {
	e.t.Helper()
	if _, err := os.Stat(nodeDir + "/node_modules/@grpc/grpc-js-xds"); err != nil {
		e.t.Fatalf("grpc-js-xds is not installed (%v): run `npm ci --prefix test/node` (make test does)", err)
	}
	return e.dialProcess(n, keyspace, "grpc-js", "node", nodeDir+"/client.js", keyspace)
}

func one(alias string) []string { return []string{alias} }
