package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/shardmesh/shardmesh/pkg/weights"
)

const explainUsage = "explain --region R --zone Z [--tenant T] [--kind grpc|envoy] KEYSPACE (--shard S | --keyspace-id HEX) --type CLASS [-o json]"

// runExplain prints where a client in a locality sends one class of
// requests for one shard, with each target's expected share, and why every
// other tablet of the shard gets nothing: weights.Explain on the topology
// read from etcd, the computation xds-server builds its resources with.
func runExplain(ctx context.Context, e env, args []string) error {
	fs := subflags("explain", e.stdout)
	region := fs.String("region", "", "client locality region")
	zone := fs.String("zone", "", "client locality zone")
	tenant := fs.String("tenant", "", "client tenant")
	kind := fs.String("kind", "grpc", "client kind: grpc or envoy")
	shard := fs.String("shard", "", "shard name (-80, 80-, 0)")
	ksid := fs.String("keyspace-id", "", "keyspace id, 16 hex digits: its shard")
	class := fs.String("type", "primary", "class: primary, read-after-write, replica or rdonly")
	output := fs.String("o", "text", "text or json")
	pos, err := parseSub(fs, args)
	if err != nil || len(pos) != 1 {
		return fmt.Errorf("%w: %s", errUsage, explainUsage)
	}
	req, err := parseClient(*kind, *class, *output)
	if err != nil {
		return err
	}
	topo, err := e.store.Load(ctx)
	if err != nil {
		return err
	}
	s, err := topo.Lookup(pos[0], *shard, *ksid)
	if err != nil {
		return err
	}
	req.Topology, req.Shard, req.Now = topo, s, e.now()
	req.Client = weights.Locality{Region: *region, Zone: *zone}
	x := weights.Explain(req, *tenant)
	if *output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(x)
	}
	printExplanation(e.stdout, x)
	return nil
}

// parseClient checks the kind, class and output flags shared by explain
// and what-if.
func parseClient(kind, class, output string) (weights.Query, error) {
	var r weights.Query
	switch r.Kind = weights.ClientKind(kind); r.Kind {
	case weights.KindGRPC, weights.KindEnvoy:
	default:
		return r, fmt.Errorf("%w: --kind %q: want grpc or envoy", errUsage, kind)
	}
	c, ok := weights.ParseClass(class)
	if !ok {
		return r, fmt.Errorf("%w: --type %q: want primary, read-after-write, replica or rdonly", errUsage, class)
	}
	r.Class = c
	if output != "text" && output != "json" {
		return r, fmt.Errorf("%w: -o %q: want text or json", errUsage, output)
	}
	return r, nil
}

// printExplanation writes an explanation as two aligned tables.
func printExplanation(w io.Writer, x weights.Explanation) {
	fmt.Fprintf(w, "%s/%s %s from region %q zone %q tenant %q (%s client), revision %d\n",
		x.Keyspace, x.Shard, x.Class, x.Region, x.Zone, x.Tenant, x.Kind, x.Revision)
	if x.Redirect != nil {
		fmt.Fprintf(w, "note: %d%% of this class goes to keyspace %s (%s); the split below is for the rest\n",
			x.Redirect.Percent, x.Redirect.ToKeyspace, x.Redirect.Status)
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	if len(x.Targets) == 0 {
		fmt.Fprintln(tw, "no eligible tablet: clients get a controlled error (gRPC UNAVAILABLE, Envoy 503)")
	} else {
		fmt.Fprintln(tw, "PRIORITY\tTABLET\tCELL\tREGION/ZONE\tHEALTH\tWEIGHT\tSHARE\tNOTE")
	}
	for _, t := range x.Targets {
		line := fmt.Sprintf("P%d\t%s\t%s\t%s/%s\t%s\t%d\t%.1f%%", t.Priority, t.Alias, t.Cell, t.Region, t.Zone, t.Health, t.Weight, 100*t.Share)
		if t.Note != "" {
			line += "\t" + t.Note
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	if len(x.Excluded) == 0 {
		return
	}
	fmt.Fprintln(w, "gets nothing:")
	tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, d := range x.Excluded {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", d.Alias, d.Type, d.Reason, d.Detail)
	}
	tw.Flush()
}
