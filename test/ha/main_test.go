// Package ha tests shardmesh run highly available: real etcd members and
// xds-server replicas as separate processes (internal/etcdcluster,
// internal/proctest), real grpc-go xDS clients making RPCs to real gRPC
// backends, and faults injected by killing, stopping and restarting them.
package ha

import (
	"fmt"
	"os"
	"testing"

	"github.com/shardmesh/shardmesh/internal/etcdcluster"
	"github.com/shardmesh/shardmesh/internal/proctest"
)

// Binaries built once for the package's tests.
var etcdBin, xdsServerBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "shardmesh-ha-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if etcdBin, err = proctest.Build(dir, etcdcluster.MemberPackage); err == nil {
		xdsServerBin, err = proctest.Build(dir, proctest.XDSServerPackage)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
