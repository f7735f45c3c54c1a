package ops

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// ErrUsage marks a command line that is wrong (exit code 2 in shardctl);
// validation errors wrap topology.ErrInvalid (exit code 3).
var ErrUsage = errors.New("usage")

// Command is a shardctl subcommand for gradual shifting.
type Command struct {
	Name  string
	Usage string
	Run   func(ctx context.Context, s Store, args []string, stdout io.Writer, now time.Time) error
}

// Commands are the shardctl subcommands of docs/shifting.md.
var Commands = []Command{
	{"shift", "shift create|pause|resume|abort|delete|status ...", runShift},
	{"rules", "rules apply -f FILE [--dry-run]", runRules},
	{"cell", "cell drain CELL [--window 10m] [--reason R] | undrain CELL | prefer KEYSPACE CELL | unprefer KEYSPACE", runCell},
	{"az-rank", "az-rank KEYSPACE/SHARD [-o json]", runAZRank},
}

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUsage}, args...)...)
}

func flags(name string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	return fs
}

// parse parses flags that may follow positional arguments.
func parse(fs *flag.FlagSet, args []string, npos int) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUsage, err)
		}
		args = fs.Args()
		if len(args) > 0 {
			pos, args = append(pos, args[0]), args[1:]
		}
	}
	if len(pos) != npos {
		return nil, usagef("%s takes %d argument(s), got %q", fs.Name(), npos, pos)
	}
	return pos, nil
}

func runShift(ctx context.Context, s Store, args []string, out io.Writer, now time.Time) error {
	if len(args) == 0 {
		return usagef("shift create|pause|resume|abort|delete|status")
	}
	switch verb, rest := args[0], args[1:]; verb {
	case "create":
		fs := flags("shift create NAME", out)
		var spec ShiftSpec
		var steps string
		fs.StringVar(&spec.Keyspace, "keyspace", "", "keyspace whose traffic moves")
		fs.StringVar(&spec.TabletType, "type", "replica", "primary, replica or rdonly")
		fs.StringVar(&spec.ToKeyspace, "to-keyspace", "", "move to this keyspace (MoveTables-style)")
		fs.StringVar(&spec.FromCell, "from-cell", "", "move reads from this cell...")
		fs.StringVar(&spec.ToCell, "to-cell", "", "...to this cell")
		fs.StringVar(&steps, "steps", "10,25,50,100", "percentages, rising")
		fs.StringVar(&spec.Hold, "hold", "5m", "time at each step")
		rb := fs.Uint("rollback-below", 0, "roll back while less than this percent of the target's tablets are eligible")
		pos, err := parse(fs, rest, 1)
		if err != nil {
			return err
		}
		for _, p := range strings.Split(steps, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(p), 10, 32)
			if err != nil {
				return usagef("--steps: %q is not a list of percentages", steps)
			}
			spec.Steps = append(spec.Steps, uint32(v))
		}
		spec.RollbackBelowPercent = uint32(*rb)
		if err := s.CreateShift(ctx, pos[0], spec, now); err != nil {
			return err
		}
		fmt.Fprintf(out, "shift %s created\n", pos[0])
		return nil
	case "pause", "resume", "abort", "delete":
		pos, err := parse(flags("shift "+verb+" NAME", out), rest, 1)
		if err != nil {
			return err
		}
		switch verb {
		case "pause":
			err = s.PauseShift(ctx, pos[0], now)
		case "resume":
			err = s.ResumeShift(ctx, pos[0], now)
		case "abort":
			err = s.AbortShift(ctx, pos[0])
		default:
			err = s.DeleteShift(ctx, pos[0])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "shift %s: %sd\n", pos[0], strings.TrimSuffix(verb, "e"))
		return nil
	case "status":
		fs := flags("shift status", out)
		format := fs.String("o", "table", "table or json")
		if _, err := parse(fs, rest, 0); err != nil {
			return err
		}
		topo, err := s.Load(ctx)
		if err != nil {
			return err
		}
		st := Shifts(topo, now)
		if *format == "json" {
			return json.NewEncoder(out).Encode(st)
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tKEYSPACE\tTYPE\tTO\tPERCENT\tSTATUS\tNEXT STEP")
		for _, x := range st {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d%%\t%s\t%s\n", x.Name, x.Keyspace, x.Type, x.To, x.Percent, x.Status, x.Next)
		}
		return tw.Flush()
	}
	return usagef("shift %q: want create, pause, resume, abort, delete or status", args[0])
}

func runRules(ctx context.Context, s Store, args []string, out io.Writer, _ time.Time) error {
	if len(args) == 0 || args[0] != "apply" {
		return usagef("rules apply -f FILE [--dry-run]")
	}
	fs := flags("rules apply", out)
	file := fs.String("f", "", "rules file (YAML or JSON, Vitess keyspace routing rules)")
	dry := fs.Bool("dry-run", false, "print the diff, write nothing")
	if _, err := parse(fs, args[1:], 0); err != nil {
		return err
	}
	if *file == "" {
		return usagef("rules apply: -f FILE is required")
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	diff, err := s.ApplyRules(ctx, data, *dry)
	if err != nil {
		return err
	}
	fmt.Fprint(out, diff)
	return nil
}

func runCell(ctx context.Context, s Store, args []string, out io.Writer, now time.Time) error {
	if len(args) == 0 {
		return usagef("cell drain|undrain|prefer|unprefer")
	}
	switch verb, rest := args[0], args[1:]; verb {
	case "drain":
		fs := flags("cell drain CELL", out)
		window := fs.Duration("window", 0, "how long reads take to leave (0: at once)")
		reason := fs.String("reason", "", "why, for the record")
		pos, err := parse(fs, rest, 1)
		if err != nil {
			return err
		}
		if err := s.DrainCell(ctx, pos[0], *window, *reason, now); err != nil {
			return err
		}
		fmt.Fprintf(out, "cell %s draining over %v\n", pos[0], *window)
		return nil
	case "undrain":
		pos, err := parse(flags("cell undrain CELL", out), rest, 1)
		if err != nil {
			return err
		}
		return s.UndrainCell(ctx, pos[0])
	case "prefer":
		pos, err := parse(flags("cell prefer KEYSPACE CELL", out), rest, 2)
		if err != nil {
			return err
		}
		return s.PreferCell(ctx, pos[0], pos[1])
	case "unprefer":
		pos, err := parse(flags("cell unprefer KEYSPACE", out), rest, 1)
		if err != nil {
			return err
		}
		return s.PreferCell(ctx, pos[0], "")
	}
	return usagef("cell %q: want drain, undrain, prefer or unprefer", args[0])
}

func runAZRank(ctx context.Context, s Store, args []string, out io.Writer, now time.Time) error {
	fs := flags("az-rank KEYSPACE/SHARD", out)
	format := fs.String("o", "table", "table or json")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	ks, shard, ok := strings.Cut(pos[0], "/")
	if !ok {
		return usagef("az-rank: %q is not KEYSPACE/SHARD", pos[0])
	}
	topo, err := s.Load(ctx)
	if err != nil {
		return err
	}
	sh, ok := topo.Shards[topology.ShardKey{Keyspace: ks, Shard: shard}]
	if !ok {
		return fmt.Errorf("shard %s: %w", pos[0], ErrNotFound)
	}
	r := weights.RankCells(topo, sh, now)
	if *format == "json" {
		return json.NewEncoder(out).Encode(r)
	}
	return WriteAZRanking(out, r)
}

// WriteAZRanking prints a ranking as an aligned table with the advice.
func WriteAZRanking(out io.Writer, r weights.AZRanking) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tCELL\tREGION\tZONE\tELIGIBLE\tCAPACITY\tERRORS\tMAX LAG\tPRIMARY\tDRAINED")
	for i, c := range r.Cells {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d/%d\t%d\t%d\t%v\t%v\t%v\n", i+1, c.Cell, c.Region, c.Zone, c.Eligible, c.Replicas,
			c.EligibleCapacity, c.Errors, c.MaxLag, c.HasPrimary, c.Drained)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "%s: %s\n", r.Shard, r.Advice)
	return err
}
