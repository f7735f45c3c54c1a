package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/shardmesh/shardmesh/internal/ops"
	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

func runShift(ctx context.Context, e env, args []string) error {
	s, out, now := e.store, e.stdout, e.now()
	if len(args) == 0 {
		return usagef("shift create|pause|resume|abort|delete|status")
	}
	switch verb, rest := args[0], args[1:]; verb {
	case "create":
		fs := subflags("shift create NAME", out)
		var spec ops.ShiftSpec
		var steps string
		fs.StringVar(&spec.Keyspace, "keyspace", "", "keyspace whose traffic moves")
		fs.StringVar(&spec.TabletType, "type", "replica", "primary, replica or rdonly")
		fs.StringVar(&spec.ToKeyspace, "to-keyspace", "", "move to this keyspace (MoveTables-style)")
		fs.StringVar(&spec.FromCell, "from-cell", "", "move reads from this cell...")
		fs.StringVar(&spec.ToCell, "to-cell", "", "...to this cell")
		fs.StringVar(&steps, "steps", "10,25,50,100", "percentages, rising")
		fs.StringVar(&spec.Hold, "hold", "5m", "time at each step")
		rb := fs.Uint("rollback-below", 0, "roll back while less than this percent of the target's tablets are eligible")
		pos, err := parseArgs(fs, rest, 1)
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
		pos, err := parseArgs(subflags("shift "+verb+" NAME", out), rest, 1)
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
		fs := subflags("shift status", out)
		format := fs.String("o", "table", "table or json")
		if _, err := parseArgs(fs, rest, 0); err != nil {
			return err
		}
		topo, err := s.Load(ctx)
		if err != nil {
			return err
		}
		st := ops.Shifts(topo, now)
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

func runRules(ctx context.Context, e env, args []string) error {
	s, out := e.store, e.stdout
	if len(args) == 0 || args[0] != "apply" {
		return usagef("rules apply -f FILE [--dry-run]")
	}
	fs := subflags("rules apply", out)
	file := fs.String("f", "", "rules file (YAML or JSON, Vitess keyspace routing rules)")
	dry := fs.Bool("dry-run", false, "print the diff, write nothing")
	if _, err := parseArgs(fs, args[1:], 0); err != nil {
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

func runCell(ctx context.Context, e env, args []string) error {
	s, out, now := e.store, e.stdout, e.now()
	if len(args) == 0 {
		return usagef("cell drain|undrain|prefer|unprefer")
	}
	switch verb, rest := args[0], args[1:]; verb {
	case "drain":
		fs := subflags("cell drain CELL", out)
		window := fs.Duration("window", 0, "how long reads take to leave (0: at once)")
		reason := fs.String("reason", "", "why, for the record")
		pos, err := parseArgs(fs, rest, 1)
		if err != nil {
			return err
		}
		if err := s.DrainCell(ctx, pos[0], *window, *reason, now); err != nil {
			return err
		}
		fmt.Fprintf(out, "cell %s draining over %v\n", pos[0], *window)
		return nil
	case "undrain":
		pos, err := parseArgs(subflags("cell undrain CELL", out), rest, 1)
		if err != nil {
			return err
		}
		return s.UndrainCell(ctx, pos[0])
	case "prefer":
		pos, err := parseArgs(subflags("cell prefer KEYSPACE CELL", out), rest, 2)
		if err != nil {
			return err
		}
		return s.PreferCell(ctx, pos[0], pos[1])
	case "unprefer":
		pos, err := parseArgs(subflags("cell unprefer KEYSPACE", out), rest, 1)
		if err != nil {
			return err
		}
		return s.PreferCell(ctx, pos[0], "")
	}
	return usagef("cell %q: want drain, undrain, prefer or unprefer", args[0])
}

func runAZRank(ctx context.Context, e env, args []string) error {
	s, out, now := e.store, e.stdout, e.now()
	fs := subflags("az-rank KEYSPACE/SHARD", out)
	format := fs.String("o", "table", "table or json")
	pos, err := parseArgs(fs, args, 1)
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
		return fmt.Errorf("shard %s: %w", pos[0], ops.ErrNotFound)
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
