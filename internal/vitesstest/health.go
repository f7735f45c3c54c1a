package vitesstest

import (
	"sync"

	"google.golang.org/protobuf/proto"
	querypb "vitess.io/vitess/go/vt/proto/query"
	queryservicepb "vitess.io/vitess/go/vt/proto/queryservice"
)

// HealthServer answers Vitess's queryservice StreamHealth with a scripted
// response: the current one when a stream opens, and every change after.
type HealthServer struct {
	queryservicepb.UnimplementedQueryServer

	mu      sync.Mutex // guards the fields below
	resp    *querypb.StreamHealthResponse
	changed chan struct{} // closed on the next change
	opened  int           // streams opened so far
}

// NewHealthServer returns a server whose streams send resp first.
func NewHealthServer(resp *querypb.StreamHealthResponse) *HealthServer {
	return &HealthServer{resp: resp, changed: make(chan struct{})}
}

// Set changes the response: f edits a copy of the current one, which
// every open stream then sends.
func (h *HealthServer) Set(f func(r *querypb.StreamHealthResponse)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := proto.Clone(h.resp).(*querypb.StreamHealthResponse)
	f(r)
	h.resp = r
	close(h.changed)
	h.changed = make(chan struct{})
}

// Opened returns how many streams have been opened.
func (h *HealthServer) Opened() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.opened
}

// StreamHealth implements queryservice.QueryServer: it sends the current
// response, then each new one, until the client goes away.
func (h *HealthServer) StreamHealth(_ *querypb.StreamHealthRequest, stream queryservicepb.Query_StreamHealthServer) error {
	h.mu.Lock()
	h.opened++
	h.mu.Unlock()
	for {
		h.mu.Lock()
		r, changed := h.resp, h.changed
		h.mu.Unlock()
		if err := stream.Send(r); err != nil {
			return err
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
	}
}
