package vitesshealth

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	querypb "vitess.io/vitess/go/vt/proto/query"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout    = time.Minute // vtgate's --healthcheck_timeout
	DefaultMinBackoff = 50 * time.Millisecond
	DefaultMaxBackoff = 2 * time.Second
)

// Status is the latest health of one tablet.
type Status struct {
	// Connected reports that the stream is open and has delivered a
	// response within Timeout; only then are the fields below current.
	Connected bool
	// Err is why the tablet is not connected ("" while connected).
	Err string
	// Response is the latest StreamHealthResponse, nil before the first.
	// It is shared: callers must not modify it.
	Response *querypb.StreamHealthResponse
	// ServingSince is when Response.Serving last turned true while
	// connected, on the Checker's clock; zero while not serving.
	ServingSince time.Time
}

// Serving reports whether the tablet is connected and says it serves.
func (s Status) Serving() bool {
	return s.Connected && s.Response != nil && s.Response.GetServing()
}

// Config configures a Checker. Zero values take the defaults above.
type Config struct {
	// Timeout is how long a stream may stay silent before the tablet is
	// disconnected (vttablet sends a response at least every 20 s by
	// default and at once on every change).
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the delay between attempts to open a
	// tablet's stream.
	MinBackoff, MaxBackoff time.Duration
	// DialOptions are added to every tablet connection (insecure transport
	// credentials are used unless these set others).
	DialOptions []grpc.DialOption
	// Clock schedules back-off and timeouts; nil is the real clock.
	Clock clockwork.Clock
	// Logger receives stream failures; nil discards.
	Logger *slog.Logger
	// OnChange is called with a tablet's alias and new Status each time it
	// changes, from the tablet's goroutine. It must not block for long
	// and must not call Set.
	OnChange func(alias string, s Status)
}

// Checker keeps one StreamHealth stream per tablet. Create it with New,
// give it tablets with Set, and stop it with Close.
type Checker struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex // guards tablets and closed
	tablets map[string]*stream
	closed  bool
	wg      sync.WaitGroup
}

// New returns a Checker with no tablets.
func New(cfg Config) *Checker {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnChange == nil {
		cfg.OnChange = func(string, Status) {}
	}
	return &Checker{cfg: cfg, log: cfg.Logger, tablets: map[string]*stream{}}
}

// Set makes the checked tablets exactly targets (alias → "host:port" of
// the tablet's gRPC port). Streams of removed tablets, and of tablets whose
// address changed, are cancelled without waiting for them to end; new ones
// start. Set does not block on the network or wait for OnChange, so the
// caller may hold a lock that OnChange takes.
func (c *Checker) Set(targets map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for alias, st := range c.tablets {
		if addr, ok := targets[alias]; !ok || addr != st.addr {
			st.cancel()
			delete(c.tablets, alias)
		}
	}
	for alias, addr := range targets {
		if _, ok := c.tablets[alias]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		st := &stream{c: c, alias: alias, addr: addr, ctx: ctx, cancel: cancel}
		c.tablets[alias] = st
		c.wg.Go(func() { st.run(ctx) })
	}
}

// Close stops every stream and waits for their goroutines to end.
func (c *Checker) Close() {
	c.mu.Lock()
	c.closed = true
	for alias, st := range c.tablets {
		st.cancel()
		delete(c.tablets, alias)
	}
	c.mu.Unlock()
	c.wg.Wait()
}

func (c *Checker) dialOptions() []grpc.DialOption {
	return append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, c.cfg.DialOptions...)
}
