package e2e

// The third proxyless xDS client: gRPC C-core, through Debian's
// python3-grpcio (test/python/client.py). C-core is the xDS client of
// Python, C++, Ruby and PHP; Debian 12 ships release 1.51, from before
// gRFC A63, so it also proves that old clients get resources they accept.

import (
	"os"
	"os/exec"

	"github.com/shardmesh/shardmesh/internal/xdstest"
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
