package embedetcd

import (
	"context"
	"sync"

	"google.golang.org/grpc"
)

// streamCanceler lets Close end open gRPC streams (watches, lease
// keep-alives) at once. Without it, etcd's graceful stop waits for them for
// its whole request timeout (more than 5 s) before forcing the transports
// closed. Clients see their streams fail and reconnect, as they would when a
// real etcd member goes down.
type streamCanceler struct {
	mu      sync.Mutex // guards the fields below
	closed  bool
	next    int
	cancels map[int]context.CancelFunc
}

func newStreamCanceler() *streamCanceler {
	return &streamCanceler{cancels: map[int]context.CancelFunc{}}
}

// interceptor is the innermost stream interceptor: it gives each handler a
// stream whose context cancelAll can cancel.
func (s *streamCanceler) interceptor(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, cancel := context.WithCancel(ss.Context())
	defer cancel()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
	} else {
		id := s.next
		s.next++
		s.cancels[id] = cancel
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.cancels, id)
			s.mu.Unlock()
		}()
	}
	return handler(srv, &cancelableStream{ServerStream: ss, ctx: ctx})
}

// cancelAll cancels every open stream and every stream opened later.
func (s *streamCanceler) cancelAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, cancel := range s.cancels {
		cancel()
	}
}

type cancelableStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *cancelableStream) Context() context.Context { return s.ctx }
