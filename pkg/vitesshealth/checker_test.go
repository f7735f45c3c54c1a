package vitesshealth_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc"
	querypb "vitess.io/vitess/go/vt/proto/query"
	queryservicepb "vitess.io/vitess/go/vt/proto/queryservice"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/shardmesh/shardmesh/internal/vitesstest"
	"github.com/shardmesh/shardmesh/pkg/vitesshealth"
)

const timeout = 10 * time.Second // for conditions that take milliseconds when all is well

// serve starts a StreamHealth server on addr ("127.0.0.1:0" for any port).
func serve(t *testing.T, addr string, qs queryservicepb.QueryServer) (*grpc.Server, string) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	queryservicepb.RegisterQueryServer(srv, qs)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return srv, lis.Addr().String()
}

// statuses collects the Checker's reports.
type statuses chan vitesshealth.Status

func (s statuses) next(t *testing.T, what string, ok func(vitesshealth.Status) bool) vitesshealth.Status {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case st := <-s:
			if ok(st) {
				return st
			}
		case <-deadline:
			t.Fatalf("no status %s within %v", what, timeout)
		}
	}
}

func newChecker(t *testing.T, clock clockwork.Clock, cfg vitesshealth.Config) (*vitesshealth.Checker, statuses) {
	ch := make(statuses, 100)
	cfg.Clock = clock
	cfg.OnChange = func(alias string, st vitesshealth.Status) {
		if alias == "zone1-0000000101" {
			ch <- st
		}
	}
	c := vitesshealth.New(cfg)
	t.Cleanup(c.Close)
	return c, ch
}

func healthy() *querypb.StreamHealthResponse {
	return &querypb.StreamHealthResponse{
		Target:  &querypb.Target{Keyspace: "commerce", Shard: "0", TabletType: topodatapb.TabletType_REPLICA},
		Serving: true, RealtimeStats: &querypb.RealtimeStats{},
	}
}

// A tablet that dies is reported at once; when it comes back on the same
// address the stream is re-opened after the back-off (on the injected
// clock), not before.
func TestReconnectsAfterBackoff(t *testing.T) {
	clock := clockwork.NewFakeClock()
	hs := vitesstest.NewHealthServer(healthy())
	srv, addr := serve(t, "127.0.0.1:0", hs)
	c, ch := newChecker(t, clock, vitesshealth.Config{MinBackoff: time.Second, MaxBackoff: 4 * time.Second})
	c.Set(map[string]string{"zone1-0000000101": addr})
	st := ch.next(t, "serving", vitesshealth.Status.Serving)
	if !st.ServingSince.Equal(clock.Now()) {
		t.Errorf("serving since %v, want the clock's now %v", st.ServingSince, clock.Now())
	}
	hs.Set(func(r *querypb.StreamHealthResponse) { r.RealtimeStats.ReplicationLagSeconds = 7 })
	ch.next(t, "with lag 7", func(st vitesshealth.Status) bool {
		return st.Response.GetRealtimeStats().GetReplicationLagSeconds() == 7
	})

	srv.Stop()
	down := ch.next(t, "disconnected", func(st vitesshealth.Status) bool { return !st.Connected })
	if !strings.Contains(down.Err, "zone1-0000000101") || down.Serving() {
		t.Errorf("status after the tablet died = %+v, want not serving with an error naming the tablet", down)
	}
	_, _ = serve(t, addr, hs) // back on the same address
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 1); err != nil { // the back-off timer
		t.Fatal(err)
	}
	opened := hs.Opened()
	clock.Advance(time.Second)
	ch.next(t, "serving again", vitesshealth.Status.Serving)
	if hs.Opened() != opened+1 {
		t.Errorf("streams opened: %d, want %d", hs.Opened(), opened+1)
	}
}

// silent accepts a stream and never answers.
type silent struct {
	queryservicepb.UnimplementedQueryServer
}

func (silent) StreamHealth(_ *querypb.StreamHealthRequest, s queryservicepb.Query_StreamHealthServer) error {
	<-s.Context().Done()
	return nil
}

// A stream that stays silent for the timeout makes the tablet
// disconnected, as vtgate's healthcheck timeout does.
func TestSilentStreamTimesOut(t *testing.T) {
	clock := clockwork.NewFakeClock()
	_, addr := serve(t, "127.0.0.1:0", silent{})
	c, ch := newChecker(t, clock, vitesshealth.Config{Timeout: time.Minute})
	c.Set(map[string]string{"zone1-0000000101": addr})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := clock.BlockUntilContext(ctx, 1); err != nil { // the watchdog
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	st := ch.next(t, "timed out", func(st vitesshealth.Status) bool { return !st.Connected })
	if !strings.Contains(st.Err, "no health response within the timeout") {
		t.Errorf("error %q, want the timeout", st.Err)
	}
}
