// Command tablet-agent runs beside one MySQL or MariaDB instance and keeps
// that instance's tablet record in etcd, derived from what MySQL says: the
// record shardmesh's control plane routes on. See docs/agent.md.
//
//	SHARDMESH_MYSQL_PASSWORD=... tablet-agent --alias zone1-0000000101 \
//	    --keyspace commerce --shard -80 --hostname 10.0.0.12 \
//	    --port-map grpc=15991,mysql=3306 --mysql-dsn 'agent@tcp(127.0.0.1:3306)/' \
//	    --etcd-endpoints http://etcd:2379
//
// SIGTERM or SIGINT drains: the record goes DRAINING for --drain, then is
// deleted. Exit status 2 means a bad flag or configuration, 1 a failure
// while running.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/shardmesh/shardmesh/pkg/tabletagent"
)

// usageError is an error of the command line or configuration (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usage(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func main() {
	err := run(os.Args[1:], os.Stderr, os.Getenv)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "tablet-agent:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "tablet-agent:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer, getenv func(string) string) error {
	o, err := parseFlags(args, stderr, getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usage("%w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.level}))
	o.agent.Logger = log
	o.mysql.Timeout = time.Second // connect; each query has its own bound
	conn, err := mysql.NewConnector(o.mysql)
	if err != nil {
		return usage("--mysql-dsn: %w", err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(4)
	db.SetConnMaxLifetime(time.Minute)

	etcdCfg := clientv3.Config{Endpoints: o.endpoints, DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		Username: o.etcdUser, Password: o.etcdPass}
	if o.etcdTLS != (tlsFiles{}) {
		if etcdCfg.TLS, err = etcdTLS(o.etcdTLS); err != nil {
			return usage("%w", err)
		}
	}
	cli, err := clientv3.New(etcdCfg)
	if err != nil {
		return usage("--etcd-endpoints: %w", err)
	}
	defer cli.Close()

	agent, err := tabletagent.New(o.agent, db, cli)
	if err != nil {
		return usage("%w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("tablet agent started", "tablet", o.agent.Alias, "mysql", o.mysql.Addr, "etcd", o.endpoints)
	return agent.Run(ctx)
}

func etcdTLS(f tlsFiles) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.cert != "" || f.key != "" {
		cert, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("--etcd-cert/--etcd-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if f.ca != "" {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, fmt.Errorf("--etcd-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--etcd-ca: %s holds no PEM certificate", f.ca)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
