package xdstest

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"

	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
)

// Backend is a real gRPC server standing in for one tablet. It answers the
// interop TestService's UnaryCall with its alias as ServerId.
type Backend struct {
	testgrpc.UnimplementedTestServiceServer
	Alias string
	Port  uint32

	mu    sync.Mutex // guards calls
	calls int
}

// UnaryCall implements TestService.
func (b *Backend) UnaryCall(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	b.mu.Lock()
	b.calls++
	b.mu.Unlock()
	return &testgrpc.SimpleResponse{ServerId: b.Alias, Hostname: b.Alias}, nil
}

// Calls returns how many calls the backend has served.
func (b *Backend) Calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}

// Backends maps tablet aliases to running backends.
type Backends map[string]*Backend

// StartBackends starts one backend per alias on 127.0.0.1 and stops them
// when the test ends.
func StartBackends(t testing.TB, aliases ...string) Backends {
	t.Helper()
	ports := map[string]uint32{}
	for _, a := range aliases {
		ports[a] = 0
	}
	return StartBackendsAt(t, ports)
}

// StartBackendsAt starts one backend per alias on 127.0.0.1 at the given
// port (0 picks a free one) and stops them when the test ends.
func StartBackendsAt(t testing.TB, ports map[string]uint32) Backends {
	t.Helper()
	out := Backends{}
	for alias, port := range ports {
		lis, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
		if err != nil {
			t.Fatalf("backend %s: %v", alias, err)
		}
		b := &Backend{Alias: alias, Port: uint32(lis.Addr().(*net.TCPAddr).Port)}
		srv := grpc.NewServer()
		testgrpc.RegisterTestServiceServer(srv, b)
		go func() { _ = srv.Serve(lis) }()
		t.Cleanup(srv.Stop)
		out[alias] = b
	}
	return out
}

// ByAddr returns the alias of the backend listening on addr ("ip:port").
func (bs Backends) ByAddr(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	for _, b := range bs {
		if strconv.Itoa(int(b.Port)) == port {
			return b.Alias
		}
	}
	return ""
}
