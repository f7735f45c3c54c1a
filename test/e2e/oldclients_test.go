package e2e

// The oldest releases of each proxyless family that docs/clients.md claims,
// each in its own module or package directory so that the suite's main
// clients stay current: grpc-go v1.55.0 (test/grpcgo-old, from before gRFC
// A63) and @grpc/grpc-js-xds 1.10.1 (test/node-1.10, the oldest release the
// npm registry serves).

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// Directories of the old clients, relative to this package's directory.
const (
	oldGoDir   = "../grpcgo-old"
	oldNodeDir = "../node-1.10"
)

// oldGo is the grpc-go v1.55.0 client binary, built at most once per test
// binary into dir, which TestMain removes.
var oldGo struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if oldGo.dir != "" {
		os.RemoveAll(oldGo.dir)
	}
	os.Exit(code)
}

// dialOldGo starts the grpc-go v1.55.0 client (built once per test binary
// from test/grpcgo-old) of xds:///<keyspace>.
func (e *env) dialOldGo(n xdstest.Node, keyspace string) *procClient {
	e.t.Helper()
	oldGo.once.Do(func() {
		oldGo.dir, oldGo.err = os.MkdirTemp("", "grpcgo-old")
		if oldGo.err != nil {
			return
		}
		oldGo.bin = filepath.Join(oldGo.dir, "grpcgo-old")
		cmd := exec.Command("go", "build", "-o", oldGo.bin, ".")
		cmd.Dir = oldGoDir
		oldGo.out, oldGo.err = cmd.CombinedOutput()
	})
	if oldGo.err != nil {
		e.t.Fatalf("build %s: %v\n%s", oldGoDir, oldGo.err, oldGo.out)
	}
	return e.dialProcess(n, keyspace, "grpc-go 1.55", oldGo.bin, keyspace)
}

// dialOldNode starts test/node/client.js on @grpc/grpc-js-xds 1.10.1
// (test/node-1.10) as a client of xds:///<keyspace>.
func (e *env) dialOldNode(n xdstest.Node, keyspace string) *procClient {
	e.t.Helper()
	if _, err := os.Stat(oldNodeDir + "/node_modules/@grpc/grpc-js-xds"); err != nil {
		e.t.Fatalf("grpc-js-xds 1.10 is not installed (%v): run `npm ci --prefix test/node-1.10` (make test does)", err)
	}
	dir, err := filepath.Abs(oldNodeDir)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.dialProcess(n, keyspace, "grpc-js 1.10", "env", "GRPC_JS_DIR="+dir, "node", nodeDir+"/client.js", keyspace)
}
