package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/shardmesh/shardmesh/pkg/tabletagent"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

// Environment variables that carry secrets: never on the command line,
// where every user of the machine can read them (ps).
const (
	envMySQLPassword = "SHARDMESH_MYSQL_PASSWORD"
	envEtcdPassword  = "SHARDMESH_ETCD_PASSWORD"
)

// options is everything the command line says.
type options struct {
	agent     tabletagent.Config
	mysql     *mysql.Config
	endpoints []string
	etcdTLS   tlsFiles
	etcdUser  string
	etcdPass  string
	level     slog.Level
}

type tlsFiles struct{ cert, key, ca string }

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (*options, error) {
	fs := flag.NewFlagSet("tablet-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	c := &o.agent
	var cell, portMap, tags, replicaType, dsn, passFile, endpoints, level string
	var weight uint
	fs.StringVar(&c.Alias, "alias", "", "tablet alias <cell>-<10-digit uid>, e.g. zone1-0000000101 (required)")
	fs.StringVar(&cell, "cell", "", "cell; must match the alias's cell (default: the alias's cell)")
	fs.StringVar(&c.Keyspace, "keyspace", "", "keyspace (required)")
	fs.StringVar(&c.Shard, "shard", "", "shard: 0 or - for unsharded, else a key range like -80 (required)")
	fs.StringVar(&c.Hostname, "hostname", "", "host clients reach the tablet at (required)")
	fs.StringVar(&portMap, "port-map", "", "named ports, e.g. grpc=15991,mysql=3306 (required)")
	fs.StringVar(&replicaType, "replica-type", "replica", "type of a replicating instance: replica or rdonly")
	fs.UintVar(&weight, "weight", topology.DefaultTabletWeight, "relative capacity, 1..10000")
	fs.StringVar(&tags, "tags", "", "record tags, e.g. rack=r7,disk=ssd")
	fs.StringVar(&dsn, "mysql-dsn", "", "go-sql-driver DSN without password, e.g. agent@tcp(127.0.0.1:3306)/ (required)")
	fs.StringVar(&passFile, "mysql-password-file", "", "file holding the MySQL password (else $"+envMySQLPassword+")")
	fs.StringVar(&c.SchemaVersionQuery, "schema-version-query", tabletagent.DefaultSchemaVersionQuery, "query returning the schema version (one row, one column)")
	fs.DurationVar(&c.Interval, "interval", tabletagent.DefaultInterval, "probe interval")
	fs.DurationVar(&c.QueryTimeout, "query-timeout", 0, "bound of each MySQL query (default: half the interval)")
	fs.DurationVar(&c.HeartbeatInterval, "heartbeat-interval", tabletagent.DefaultHeartbeatInterval, "heartbeat writes on a primary")
	fs.DurationVar(&c.LeaseTTL, "lease-ttl", tabletagent.DefaultLeaseTTL, "etcd lease TTL: how long a dead agent's record lives")
	fs.DurationVar(&c.DrainPeriod, "drain", tabletagent.DefaultDrainPeriod, "how long the record stays DRAINING after SIGTERM before it is deleted")
	fs.StringVar(&endpoints, "etcd-endpoints", "http://127.0.0.1:2379", "etcd client URLs, comma-separated")
	fs.DurationVar(&c.EtcdTimeout, "etcd-timeout", 2*time.Second, "bound of each etcd request")
	fs.StringVar(&c.Prefix, "etcd-prefix", "/shardmesh/", "etcd key prefix")
	fs.StringVar(&o.etcdTLS.cert, "etcd-cert", "", "client certificate for etcd TLS")
	fs.StringVar(&o.etcdTLS.key, "etcd-key", "", "client key for etcd TLS")
	fs.StringVar(&o.etcdTLS.ca, "etcd-ca", "", "CA bundle for etcd TLS")
	fs.StringVar(&o.etcdUser, "etcd-username", "", "etcd user (password in $"+envEtcdPassword+")")
	fs.StringVar(&level, "log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := o.level.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	if c.Alias == "" {
		return nil, errors.New("--alias: required")
	}
	if aliasCell, _, err := topology.ParseAlias(c.Alias); err != nil {
		return nil, fmt.Errorf("--alias: %w", err)
	} else if cell != "" && cell != aliasCell {
		return nil, fmt.Errorf("--cell: %q does not match the alias's cell %q", cell, aliasCell)
	}
	var err error
	if c.PortMap, err = parsePorts(portMap); err != nil {
		return nil, fmt.Errorf("--port-map: %w", err)
	}
	if c.Tags, err = parsePairs(tags); err != nil {
		return nil, fmt.Errorf("--tags: %w", err)
	}
	if weight < 1 || weight > 10000 {
		return nil, fmt.Errorf("--weight: %d out of range 1..10000", weight)
	}
	c.Weight, c.ReplicaType = uint32(weight), topology.TabletType(replicaType)
	if o.mysql, err = mysqlConfig(dsn, passFile, getenv); err != nil {
		return nil, err
	}
	for _, e := range strings.Split(endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			o.endpoints = append(o.endpoints, e)
		}
	}
	if len(o.endpoints) == 0 {
		return nil, errors.New("--etcd-endpoints: required")
	}
	o.etcdPass = getenv(envEtcdPassword)
	return o, nil
}

// mysqlConfig parses the DSN, which must not carry the password, and adds
// the password from the file or the environment.
func mysqlConfig(dsn, passFile string, getenv func(string) string) (*mysql.Config, error) {
	if dsn == "" {
		return nil, errors.New("--mysql-dsn: required, e.g. agent@tcp(127.0.0.1:3306)/")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("--mysql-dsn: %w", err)
	}
	if cfg.Passwd != "" {
		return nil, fmt.Errorf("--mysql-dsn: holds a password; put it in $%s or --mysql-password-file", envMySQLPassword)
	}
	if cfg.User == "" {
		return nil, errors.New("--mysql-dsn: no user (user@tcp(host:port)/)")
	}
	if passFile != "" {
		b, err := os.ReadFile(passFile)
		if err != nil {
			return nil, fmt.Errorf("--mysql-password-file: %w", err)
		}
		cfg.Passwd = strings.TrimRight(string(b), "\r\n")
	} else {
		cfg.Passwd = getenv(envMySQLPassword)
	}
	return cfg, nil
}

func parsePorts(s string) (map[string]uint32, error) {
	pairs, err := parsePairs(s)
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, errors.New("required, e.g. grpc=15991,mysql=3306")
	}
	out := make(map[string]uint32, len(pairs))
	for name, v := range pairs {
		p, err := strconv.ParseUint(v, 10, 16)
		if err != nil || p == 0 {
			return nil, fmt.Errorf("%s: %q is not a port 1..65535", name, v)
		}
		out[name] = uint32(p)
	}
	return out, nil
}

// parsePairs parses "k=v,k2=v2".
func parsePairs(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not name=value", kv)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%s given twice", k)
		}
		out[k] = v
	}
	return out, nil
}
