package xdsserver

import (
	"slices"
	"sort"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/shardmesh/shardmesh/pkg/clients"
	"github.com/shardmesh/shardmesh/pkg/translate"
)

// NodeStatus is what the server knows about one connected stream's node.
type NodeStatus struct {
	StreamID int64  `json:"stream_id"`
	NodeID   string `json:"node_id"`
	Group    string `json:"group"`
	// Client is what the node announced it is and the encoding it gets
	// (clients.Classify).
	Client    clients.Client    `json:"client"`
	Delta     bool              `json:"delta"`
	Connected time.Time         `json:"connected"`
	Acked     map[string]string `json:"acked"` // type URL -> version ACKed (SotW) or last sent (delta)
	LastNack  *Nack             `json:"last_nack,omitempty"`
}

// Nack is a rejected response.
type Nack struct {
	TypeURL string    `json:"type_url"`
	Version string    `json:"version"`
	Error   string    `json:"error"`
	At      time.Time `json:"at"`
}

type sent struct {
	nonce   string
	version string
}

type stream struct {
	status     NodeStatus
	node       *corev3.Node    // from the first request that named one
	nodes      []*corev3.Node  // every node its requests named, bound to group in the cache
	group      translate.Group // decided from the first node (and the certificate)
	sent       map[string]sent // type URL -> last response
	certTenant string          // the tenant named by the client certificate
}

// streamID identifies a stream: go-control-plane numbers SotW and delta
// streams separately, so the same number can be one of each.
type streamID struct {
	delta bool
	n     int64
}

// streams tracks open streams. mu guards all fields.
type streams struct {
	mu   sync.Mutex
	byID map[streamID]*stream
}

func (s *streams) open(id streamID, certTenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[streamID]*stream{}
	}
	s.byID[id] = &stream{
		status:     NodeStatus{StreamID: id.n, Delta: id.delta, Connected: time.Now(), Acked: map[string]string{}},
		sent:       map[string]sent{},
		certTenant: certTenant,
	}
}

// close forgets a stream; it returns the stream's group and the nodes
// bound to it, ok false when it had none.
func (s *streams) close(id streamID) (group string, nodes []*corev3.Node, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, found := s.byID[id]
	delete(s.byID, id)
	if !found || st.node == nil {
		return "", nil, false
	}
	return st.status.Group, st.nodes, true
}

// nodeSeen is what node tells of a request's node.
type nodeSeen int

const (
	nodeKnown nodeSeen = iota // already bound, or no stream
	nodeFirst                 // the stream's first node: register the stream
	nodeNew                   // another node of the stream: bind it
)

// node records a request's node: the first one decides the stream's group
// (with the certificate's tenant when tenantFromCert), later ones are
// bound to the same group. It returns the stream's first node and group.
func (s *streams) node(id streamID, n *corev3.Node, tenantFromCert bool) (*corev3.Node, translate.Group, nodeSeen) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.byID[id]
	switch {
	case st == nil:
		return n, translate.GroupOf(n), nodeKnown
	case n == nil || slices.Contains(st.nodes, n):
		return st.node, st.group, nodeKnown
	case st.node != nil:
		st.nodes = append(st.nodes, n)
		return st.node, st.group, nodeNew
	}
	st.node, st.nodes = n, []*corev3.Node{n}
	st.group = translate.GroupOf(n)
	if tenantFromCert {
		st.group.Tenant = st.certTenant
	}
	st.status.NodeID = n.GetId()
	st.status.Group = st.group.ID()
	st.status.Client = clients.Classify(n)
	return n, st.group, nodeFirst
}

// Nodes returns the status of every open stream, by stream ID (SotW
// first where a SotW and a delta stream share a number). The result
// is a copy.
func (s *streams) Nodes() []NodeStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]NodeStatus, 0, len(s.byID))
	for _, st := range s.byID {
		ns := st.status
		ns.Acked = make(map[string]string, len(st.status.Acked))
		for k, v := range st.status.Acked {
			ns.Acked[k] = v
		}
		if st.status.LastNack != nil {
			n := *st.status.LastNack
			ns.LastNack = &n
		}
		out = append(out, ns)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].StreamID != out[j].StreamID {
			return out[i].StreamID < out[j].StreamID
		}
		return !out[i].Delta && out[j].Delta
	})
	return out
}
