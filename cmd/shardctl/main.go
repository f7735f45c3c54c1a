// Command shardctl is shardmesh's operator CLI. It talks to etcd (the
// topology) and to xds-server's admin API (what nodes receive).
//
//	shardctl [--etcd-endpoints=URLS] [--etcd-prefix=/shardmesh/] [--admin-addr=URL] COMMAND ...
//
// Exit codes: 0 success, 1 operational failure (etcd or admin API), 2 usage
// error, 3 invalid input (every error printed names its key and field).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/shardmesh/shardmesh/internal/ops"
	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/whatif"
)

// Exit codes scripts can rely on.
const (
	exitOK         = 0
	exitFailure    = 1
	exitUsage      = 2
	exitValidation = 3
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, time.Now))
}

// env is what every command gets.
type env struct {
	store  ops.Store
	admin  string // admin API base URL
	stdout io.Writer
	now    func() time.Time
}

type command struct {
	name, usage string
	run         func(ctx context.Context, e env, args []string) error
}

var commands = []command{
	{"apply", "apply -f topology.yaml [--dry-run]       validate every record, then write them (or print the diff)", runApply},
	{"get", "get cells|keyspaces|tablets [-o table|json|yaml]", runGet},
	{"tablet", "tablet set ALIAS [--state S] [--lag 12s] [--schema-version V] [--health-error E] [--type T] [--weight W]", runTablet},
	{"render", "render --region R --zone Z [--tenant T] [--kind grpc|envoy]   the resources such a node receives, as YAML", runRender},
	{"explain", explainUsage, runExplain},
	{"what-if", whatIfUsage, runWhatIf},
	{"status", "status                                   connected nodes per group: ACKed versions, last NACK", runStatus},
	{"shift", "shift create|pause|resume|abort|delete|status ...", runShift},
	{"rules", "rules apply -f FILE [--dry-run]", runRules},
	{"cell", "cell drain CELL [--window 10m] [--reason R] | undrain CELL | prefer KEYSPACE CELL | unprefer KEYSPACE", runCell},
	{"az-rank", "az-rank KEYSPACE/SHARD [-o json]", runAZRank},
}

// errUsage marks a command line that is wrong (exit code 2); validation
// errors wrap topology.ErrInvalid (exit code 3).
var errUsage = errors.New("usage")

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("shardctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoints := fs.String("etcd-endpoints", "http://127.0.0.1:2379", "comma-separated etcd client URLs")
	prefix := fs.String("etcd-prefix", "/shardmesh/", "etcd key prefix of the topology")
	admin := fs.String("admin-addr", "http://127.0.0.1:18001", "xds-server admin API")
	timeout := fs.Duration("timeout", 10*time.Second, "time limit of the command")
	fs.Usage = func() { usage(fs, stderr) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		usage(fs, stderr)
		return exitUsage
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var runFn func(context.Context, env, []string) error
	for _, c := range commands {
		if c.name == name {
			runFn = c.run
		}
	}
	if runFn == nil {
		fmt.Fprintf(stderr, "shardctl: unknown command %q\n", name)
		usage(fs, stderr)
		return exitUsage
	}
	if !strings.HasPrefix(*admin, "http") {
		*admin = "http://" + *admin
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoints, ","), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Fprintln(stderr, "shardctl:", err)
		return exitFailure
	}
	defer cli.Close()
	e := env{store: ops.Store{Client: cli, Prefix: *prefix}, admin: strings.TrimSuffix(*admin, "/"), stdout: stdout, now: now}
	if err := runFn(ctx, e, rest); err != nil {
		fmt.Fprintln(stderr, "shardctl:", err)
		switch {
		case errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp):
			return exitUsage
		case errors.Is(err, topology.ErrInvalid):
			return exitValidation
		case errors.Is(err, whatif.ErrNoEligible):
			return exitNoEligible
		}
		return exitFailure
	}
	return exitOK
}

func usage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintln(w, "usage: shardctl [flags] COMMAND ...\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintln(w, "  "+c.usage)
	}
	fmt.Fprintln(w, "\nflags:")
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nexit codes: 0 ok, 1 failure, 2 usage, 3 invalid input, 4 what-if leaves a class with no eligible tablet")
}

// subflags returns a flag set for a subcommand whose errors are usage
// errors.
func subflags(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

// parseSub parses a subcommand's flags, which may follow its positional
// arguments, and returns the positional arguments.
func parseSub(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) > 0 {
			pos, args = append(pos, args[0]), args[1:]
		}
	}
	return pos, nil
}

// parseArgs is parseSub for a subcommand that takes exactly n positional
// arguments.
func parseArgs(fs *flag.FlagSet, args []string, n int) ([]string, error) {
	pos, err := parseSub(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != n {
		return nil, usagef("%s takes %d argument(s), got %q", fs.Name(), n, pos)
	}
	return pos, nil
}
