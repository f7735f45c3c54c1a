package xdsserver

import (
	"sort"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/shardmesh/shardmesh/pkg/clients"
	"github.com/shardmesh/shardmesh/pkg/snapshot"
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
	node       *corev3.Node
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

// close forgets a stream; it returns the stream's group, if it had one.
func (s *streams) close(id streamID) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.byID[id]
	delete(s.byID, id)
	if !ok || st.node == nil {
		return "", false
	}
	return st.status.Group, true
}

// node records the stream's node from its first request and returns it
// with whether this was the first time.
func (s *streams) node(id streamID, n *corev3.Node) (*corev3.Node, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.byID[id]
	if st == nil || n == nil || st.node != nil {
		if st == nil {
			return n, false
		}
		return st.node, false
	}
	st.node = n
	st.status.NodeID = n.GetId()
	st.status.Group = snapshot.GroupOf(n).ID()
	st.status.Client = clients.Classify(n)
	return n, true
}

// certTenantOf returns the tenant of a stream's client certificate.
func (s *streams) certTenantOf(id streamID) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.byID[id]; st != nil {
		return st.certTenant
	}
	return ""
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
