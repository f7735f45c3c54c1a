package ha

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/resolver"

	"github.com/shardmesh/shardmesh/internal/proctest"
	"github.com/shardmesh/shardmesh/pkg/xdsserver"
)

// front stands for "one address in front of the replicas": a name that
// resolves to every replica's address, as a DNS name with one A record per
// replica does, with pick_first shuffling the list (gRFC A62) so that
// clients spread over the replicas. When the connected replica goes away,
// pick_first connects to another address of the list.
type front struct {
	scheme string
	addrs  []resolver.Address
}

var frontSeq atomic.Int64

// newFront registers a resolver scheme for the replicas and returns the
// server_uri that reaches them. Tests register it before dialing; the
// resolver registry is global, so the scheme is unique per call.
func newFront(replicas ...*proctest.Replica) string {
	f := &front{scheme: fmt.Sprintf("ha%d", frontSeq.Add(1))}
	for _, r := range replicas {
		f.addrs = append(f.addrs, resolver.Address{Addr: r.XDSAddr})
	}
	resolver.Register(f)
	return f.scheme + ":///replicas"
}

const shuffledPickFirst = `{"loadBalancingConfig":[{"pick_first":{"shuffleAddressList":true}}]}`

// Build implements resolver.Builder.
func (f *front) Build(_ resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	err := cc.UpdateState(resolver.State{Addresses: f.addrs, ServiceConfig: cc.ParseServiceConfig(shuffledPickFirst)})
	return nopResolver{}, err
}

// Scheme implements resolver.Builder.
func (f *front) Scheme() string { return f.scheme }

type nopResolver struct{}

func (nopResolver) ResolveNow(resolver.ResolveNowOptions) {}
func (nopResolver) Close()                                {}

// nodes returns the replica's view of its xDS streams (/debug/nodes), or
// an error if it does not answer.
func nodes(r *proctest.Replica) ([]xdsserver.NodeStatus, error) {
	cli := http.Client{Timeout: time.Second}
	resp, err := cli.Get("http://" + r.AdminAddr + "/debug/nodes")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []xdsserver.NodeStatus
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("%s /debug/nodes: %w", r.Name, err)
	}
	return out, nil
}

// acked returns the versions node id has ACKed on replica r (type URL ->
// version), nil when it has no stream there.
func acked(r *proctest.Replica, id string) map[string]string {
	ns, err := nodes(r)
	if err != nil {
		return nil
	}
	for _, n := range ns {
		if n.NodeID == id && len(n.Acked) > 0 {
			return n.Acked
		}
	}
	return nil
}
