// Command xds-server is shardmesh's control plane: it watches the topology
// in etcd and serves Envoy sidecars and proxyless gRPC clients over xDS.
//
//	xds-server --etcd-endpoints=a,b --etcd-prefix=/shardmesh/ --xds-addr=:18000 --admin-addr=:18001
//
// Without --etcd-endpoints it runs an embedded etcd (see --embedded-etcd-addr,
// --etcd-data-dir), optionally seeded from --seed FILE. With --source=vitess
// it reads a Vitess cluster's own topology under --vitess-topo-root and its
// tablets' health streams instead of shardmesh tablet records.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/shardmesh/shardmesh/internal/app"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "xds-server:", err)
		os.Exit(2)
	}
}

func run(args []string, stderr io.Writer) error {
	cfg, level, procs, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	runtime.GOMAXPROCS(app.Procs(procs, runtime.GOMAXPROCS(0), os.Getenv("GOMAXPROCS") != ""))
	cfg.Logger.Info("scheduler", "gomaxprocs", runtime.GOMAXPROCS(0), "cpus", runtime.NumCPU())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.Start(ctx, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	a.Drain()
	a.Close()
	return nil
}

func parseFlags(args []string, stderr io.Writer) (app.Config, slog.Level, int, error) {
	var cfg app.Config
	var procs int
	var endpoints, level string
	fs := flag.NewFlagSet("xds-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&endpoints, "etcd-endpoints", "", "comma-separated etcd client URLs; empty runs an embedded etcd")
	fs.StringVar(&cfg.EtcdPrefix, "etcd-prefix", "/shardmesh/", "etcd key prefix of the topology")
	fs.StringVar(&cfg.EmbeddedEtcdAddr, "embedded-etcd-addr", "127.0.0.1:2379", "client address of the embedded etcd")
	fs.StringVar(&cfg.EtcdDataDir, "etcd-data-dir", "default.etcd", "data directory of the embedded etcd")
	fs.StringVar(&cfg.SeedFile, "seed", "", "YAML topology (cells, keyspaces, tablets, rules) written to etcd at start")
	fs.StringVar(&cfg.XDSAddr, "xds-addr", ":18000", "xDS gRPC listen address")
	fs.StringVar(&cfg.AdminAddr, "admin-addr", ":18001", "admin HTTP listen address (/healthz, /readyz, /debug/...); empty disables")
	fs.DurationVar(&cfg.HoldOff, "batch-holdoff", 5*time.Millisecond, "quiet time that ends a burst of topology changes")
	fs.DurationVar(&cfg.MaxDelay, "batch-max-delay", 50*time.Millisecond, "longest a topology change waits for its burst to end")
	fs.StringVar(&cfg.Source, "source", app.SourceShardmesh, "topology source: shardmesh (records under --etcd-prefix) or vitess (a Vitess topology and its tablets' health streams; see docs/vitess.md)")
	fs.StringVar(&cfg.Vitess.GlobalRoot, "vitess-topo-root", "/vitess/global", "with --source=vitess: the Vitess global topology root in etcd (vtctld --topo-global-root)")
	fs.DurationVar(&cfg.Vitess.HealthTimeout, "vitess-health-timeout", time.Minute, "with --source=vitess: a tablet whose health stream is silent this long is not routed")
	fs.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	fs.IntVar(&procs, "gomaxprocs", 0, fmt.Sprintf("Go scheduler threads; 0: at least %d (more than the CPUs, so that updates are not queued behind a reconnect storm), or the GOMAXPROCS environment variable", app.MinProcs))
	fs.DurationVar(&cfg.MaxConnectionAge, "max-connection-age", app.DefaultMaxConnectionAge, "an xDS connection gets a GOAWAY after this age (±10% jitter), so clients rebalance across replicas; 0 or negative: never")
	fs.DurationVar(&cfg.MaxConnectionAgeGrace, "max-connection-age-grace", app.DefaultMaxConnectionAgeGrace, "how long a connection past --max-connection-age keeps its streams before they are closed")
	fs.DurationVar(&cfg.DrainTimeout, "drain-timeout", app.DefaultDrainTimeout, "on SIGTERM: GOAWAY to every client, then this long before the remaining streams are closed")
	fs.StringVar(&cfg.XDSTLS.Cert, "tls-cert", "", "xDS server certificate (PEM); enables TLS")
	fs.StringVar(&cfg.XDSTLS.Key, "tls-key", "", "xDS server private key (PEM)")
	fs.StringVar(&cfg.XDSTLS.CA, "tls-client-ca", "", "CA of client certificates: requires mTLS; node tenants then come from the certificate's spiffe://<domain>/tenant/<name> SAN")
	fs.StringVar(&cfg.EtcdTLS.Cert, "etcd-cert", "", "etcd client certificate (PEM)")
	fs.StringVar(&cfg.EtcdTLS.Key, "etcd-key", "", "etcd client private key (PEM)")
	fs.StringVar(&cfg.EtcdTLS.CA, "etcd-ca", "", "CA to verify etcd's server certificate (PEM)")
	fs.StringVar(&cfg.EtcdUsername, "etcd-username", "", "etcd user")
	fs.StringVar(&cfg.EtcdPassword, "etcd-password", "", "etcd password (prefer the SHARDMESH_ETCD_PASSWORD environment variable)")
	if err := fs.Parse(args); err != nil {
		return cfg, 0, 0, err
	}
	if fs.NArg() > 0 {
		return cfg, 0, 0, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return cfg, 0, 0, fmt.Errorf("--log-level: %q is not debug, info, warn or error", level)
	}
	if procs < 0 {
		return cfg, 0, 0, fmt.Errorf("--gomaxprocs must be >= 0 (got %d)", procs)
	}
	if cfg.HoldOff <= 0 || cfg.MaxDelay < cfg.HoldOff {
		return cfg, 0, 0, fmt.Errorf("--batch-holdoff must be > 0 and at most --batch-max-delay (got %v, %v)", cfg.HoldOff, cfg.MaxDelay)
	}
	if cfg.Source != app.SourceShardmesh && cfg.Source != app.SourceVitess {
		return cfg, 0, 0, fmt.Errorf("--source: %q is not shardmesh or vitess", cfg.Source)
	}
	if cfg.MaxConnectionAge <= 0 {
		cfg.MaxConnectionAge = -1 // never
	}
	if cfg.MaxConnectionAgeGrace <= 0 {
		return cfg, 0, 0, fmt.Errorf("--max-connection-age-grace must be > 0 (got %v)", cfg.MaxConnectionAgeGrace)
	}
	if cfg.DrainTimeout <= 0 {
		return cfg, 0, 0, fmt.Errorf("--drain-timeout must be > 0 (got %v)", cfg.DrainTimeout)
	}
	if cfg.EtcdPassword == "" {
		cfg.EtcdPassword = os.Getenv("SHARDMESH_ETCD_PASSWORD")
	}
	if (cfg.XDSTLS.Cert == "") != (cfg.XDSTLS.Key == "") || (cfg.XDSTLS.CA != "" && cfg.XDSTLS.Cert == "") {
		return cfg, 0, 0, fmt.Errorf("--tls-cert and --tls-key go together, and --tls-client-ca needs them")
	}
	if !strings.HasSuffix(cfg.EtcdPrefix, "/") {
		return cfg, 0, 0, fmt.Errorf("--etcd-prefix: %q must end with /", cfg.EtcdPrefix)
	}
	for _, e := range strings.Split(endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			cfg.EtcdEndpoints = append(cfg.EtcdEndpoints, e)
		}
	}
	return cfg, l, procs, nil
}
