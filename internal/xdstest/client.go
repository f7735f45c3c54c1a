package xdstest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/xds"
)

// Node is the identity an xDS client presents.
type Node struct {
	ID     string
	Region string
	Zone   string
	Tenant string
}

// Bootstrap returns a grpc-go xDS bootstrap for a node talking to the xDS
// server at addr over plaintext.
func Bootstrap(addr string, n Node) []byte { return BootstrapServers([]string{addr}, n) }

// BootstrapServers returns a grpc-go xDS bootstrap listing several xDS
// servers in priority order: gRFC A71 fallback, where the client uses a
// lower-priority server only while the higher ones are unreachable and a
// resource it watches is not cached.
func BootstrapServers(addrs []string, n Node) []byte {
	servers := make([]any, len(addrs))
	for i, addr := range addrs {
		servers[i] = map[string]any{
			"server_uri":      addr,
			"channel_creds":   []any{map[string]string{"type": "insecure"}},
			"server_features": []string{"xds_v3"},
		}
	}
	node := map[string]any{"id": n.ID, "locality": map[string]string{"region": n.Region, "zone": n.Zone}}
	if n.Tenant != "" {
		node["metadata"] = map[string]string{"tenant": n.Tenant}
	}
	b, err := json.Marshal(map[string]any{
		"xds_servers": servers,
		"node":        node,
	})
	if err != nil {
		panic(err)
	}
	return b
}

// Client is a grpc-go xDS client dialing xds:///<keyspace>.
type Client struct {
	t        testing.TB
	conn     *grpc.ClientConn
	stub     testgrpc.TestServiceClient
	backends Backends
}

// Dial returns a client of the keyspace with its own xDS client and
// bootstrap; it is closed when the test ends.
func Dial(t testing.TB, xdsAddr string, n Node, keyspace string, backends Backends) *Client {
	t.Helper()
	return DialBootstrap(t, Bootstrap(xdsAddr, n), keyspace, backends)
}

// DialBootstrap is Dial with a bootstrap of the caller's.
func DialBootstrap(t testing.TB, bootstrap []byte, keyspace string, backends Backends) *Client {
	t.Helper()
	builder, err := xds.NewXDSResolverWithConfigForTesting(bootstrap)
	if err != nil {
		t.Fatalf("xds resolver: %v", err)
	}
	conn, err := grpc.NewClient("xds:///"+keyspace, grpc.WithResolvers(builder),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial xds:///%s: %v", keyspace, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &Client{t: t, conn: conn, stub: testgrpc.NewTestServiceClient(conn), backends: backends}
}

// Call makes one RPC with the given header pairs (name, value, ...) and
// returns the alias of the tablet that served it, found from the peer
// address, or the RPC's error.
func (c *Client) Call(ctx context.Context, headers ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if len(headers) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, headers...)
	}
	var p peer.Peer
	resp, err := c.stub.UnaryCall(ctx, &testgrpc.SimpleRequest{}, grpc.Peer(&p))
	if err != nil {
		return "", err
	}
	alias := c.backends.ByAddr(p.Addr.String())
	if alias != resp.GetServerId() {
		return "", fmt.Errorf("peer %s is %q but the server says %q", p.Addr, alias, resp.GetServerId())
	}
	return alias, nil
}

// Count makes n RPCs and returns how many each tablet served; failed RPCs
// are counted under their status code, e.g. "Unavailable".
func (c *Client) Count(n int, headers ...string) Counts {
	counts := Counts{}
	for range n {
		alias, err := c.Call(context.Background(), headers...)
		if err != nil {
			alias = status.Code(err).String()
		}
		counts[alias]++
	}
	return counts
}

// Counts is calls per tablet alias (or per status code for failures).
type Counts map[string]int

// Only reports whether every call went to one of the aliases.
func (c Counts) Only(aliases ...string) bool {
	total := 0
	for _, a := range aliases {
		total += c[a]
	}
	return total > 0 && total == c.Total()
}

// Total is the number of calls counted.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

func (c Counts) String() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, c[k])
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// Unavailable is the Counts key of calls that failed with UNAVAILABLE.
var Unavailable = codes.Unavailable.String()

// Eventually polls cond until it returns true or the timeout passes, then
// fails the test with the last description cond gave. Polling a condition
// with a deadline is how these tests wait: never a bare sleep.
func Eventually(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		ok, desc := cond()
		if ok {
			return
		}
		last = desc
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v: %s", timeout, last)
		}
		<-tick.C
	}
}
