package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/shardmesh/shardmesh/pkg/whatif"
)

// exitNoEligible is what-if's exit code when a change would leave a class
// with no eligible tablet, so that a game-day script or CI job can gate on it.
const exitNoEligible = 4

const whatIfUsage = "what-if [--fail-cell C] [--fail-tablet A] [--lag A=60s] [--drain-cell C] [--reparent KS/SHARD=A] ... [--kind grpc|envoy] [--changed] [-o json]   rehearse a failure in memory; exit 4 if a class is left with nothing"

// changeFlag collects repeated change flags in command-line order.
type changeFlag struct {
	op   whatif.Op
	list *[]whatif.Change
}

func (f changeFlag) String() string { return "" }

func (f changeFlag) Set(v string) error {
	c, err := whatif.Parse(f.op, v)
	if err != nil {
		return err
	}
	*f.list = append(*f.list, c)
	return nil
}

var _ flag.Value = changeFlag{}

// runWhatIf applies hypothetical changes to the topology read from etcd,
// in memory only, and prints for every client locality and class the
// split before and after; whatif.ErrNoEligible (exit 4) when a class is
// left with no eligible tablet.
func runWhatIf(ctx context.Context, e env, args []string) error {
	fs := subflags("what-if", e.stdout)
	var changes []whatif.Change
	for _, op := range []whatif.Op{whatif.FailCell, whatif.FailTablet, whatif.Lag, whatif.DrainCell, whatif.Reparent} {
		fs.Var(changeFlag{op, &changes}, string(op), "a hypothetical change (repeatable)")
	}
	kind := fs.String("kind", "grpc", "client kind: grpc or envoy")
	changed := fs.Bool("changed", false, "print only the rows the changes alter")
	output := fs.String("o", "text", "text or json")
	pos, err := parseSub(fs, args)
	if err != nil || len(pos) > 0 || len(changes) == 0 {
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: %s", errUsage, whatIfUsage)
	}
	req, err := parseClient(*kind, "primary", *output)
	if err != nil {
		return err
	}
	before, err := e.store.Load(ctx)
	if err != nil {
		return err
	}
	after, err := whatif.Apply(before, changes, e.now())
	if err != nil {
		return err
	}
	rep := whatif.Compare(before, after, changes, req.Kind, e.now())
	if *output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteText(e.stdout, *changed); err != nil {
		return err
	}
	return rep.Err()
}
