package vitesshealth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	querypb "vitess.io/vitess/go/vt/proto/query"
	queryservicepb "vitess.io/vitess/go/vt/proto/queryservice"
)

// errSilent ends a stream that delivered nothing for Config.Timeout.
var errSilent = errors.New("no health response within the timeout")

// stream is the health stream of one tablet. Its fields below cancel are
// used only by its goroutine.
type stream struct {
	c      *Checker
	alias  string
	addr   string
	ctx    context.Context // ends when Set drops the stream or Close runs
	cancel context.CancelFunc

	status Status
}

// run keeps the tablet's stream open until ctx ends.
func (s *stream) run(ctx context.Context) {
	cfg := s.c.cfg
	conn, err := grpc.NewClient(s.addr, s.c.dialOptions()...)
	if err != nil {
		s.fail(fmt.Errorf("tablet %s: dial %s: %w", s.alias, s.addr, err))
		return
	}
	defer conn.Close()
	client := queryservicepb.NewQueryClient(conn)
	delay := cfg.MinBackoff
	for {
		got, err := s.once(ctx, client)
		if ctx.Err() != nil {
			return
		}
		s.fail(fmt.Errorf("tablet %s: StreamHealth %s: %w", s.alias, s.addr, err))
		if got {
			delay = cfg.MinBackoff
		}
		t := cfg.Clock.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.Chan():
		}
		delay = min(2*delay, cfg.MaxBackoff)
	}
}

// once opens one stream and reads it until it fails; got reports whether
// it delivered a response.
func (s *stream) once(ctx context.Context, client queryservicepb.QueryClient) (got bool, err error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timeout := s.c.cfg.Timeout
	watchdog := s.c.cfg.Clock.AfterFunc(timeout, func() { cancel(errSilent) })
	defer watchdog.Stop()
	st, err := client.StreamHealth(sctx, &querypb.StreamHealthRequest{})
	for err == nil {
		var resp *querypb.StreamHealthResponse
		if resp, err = st.Recv(); err != nil {
			break
		}
		watchdog.Reset(timeout)
		got = true
		s.update(resp)
	}
	if cause := context.Cause(sctx); errors.Is(cause, errSilent) {
		err = fmt.Errorf("%w (%v)", errSilent, timeout)
	}
	return got, err
}

// report hands a new status to OnChange unless the stream was dropped: a
// stream replaced by Set (the tablet moved) must not overwrite the new
// stream's reports.
func (s *stream) report(st Status) {
	s.status = st
	if s.ctx.Err() == nil {
		s.c.cfg.OnChange(s.alias, st)
	}
}

// update applies a response and reports a change.
func (s *stream) update(resp *querypb.StreamHealthResponse) {
	old := s.status
	next := Status{Connected: true, Response: resp, ServingSince: old.ServingSince}
	switch {
	case !resp.GetServing():
		next.ServingSince = time.Time{}
	case !old.Serving():
		next.ServingSince = s.c.cfg.Clock.Now()
	}
	if old.Connected && proto.Equal(old.Response, resp) {
		return // vttablet repeats an unchanged state periodically
	}
	s.report(next)
}

// fail marks the tablet disconnected and reports it.
func (s *stream) fail(err error) {
	if s.status.Connected || s.status.Err == "" {
		s.c.log.Warn("tablet health stream failed; tablet not eligible", "alias", s.alias, "addr", s.addr, "error", err)
	}
	if !s.status.Connected && s.status.Err == err.Error() {
		return
	}
	s.report(Status{Err: err.Error()})
}
