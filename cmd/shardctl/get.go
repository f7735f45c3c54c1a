package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"sigs.k8s.io/yaml"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// runGet lists cells, keyspaces or tablets as the control plane reads them.
func runGet(ctx context.Context, e env, args []string) error {
	fs := subflags("get", e.stdout)
	format := fs.String("o", "table", "table, json or yaml")
	pos, err := parseSub(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: get cells|keyspaces|tablets", errUsage)
	}
	topo, err := e.store.Load(ctx)
	if err != nil {
		return err
	}
	var rows any
	var table func(*tabwriter.Writer)
	switch pos[0] {
	case "cells":
		cells := make([]topology.Cell, 0, len(topo.Cells))
		for _, c := range topo.Cells {
			cells = append(cells, c)
		}
		sort.Slice(cells, func(i, j int) bool { return cells[i].Name < cells[j].Name })
		rows, table = cells, func(w *tabwriter.Writer) {
			fmt.Fprintln(w, "CELL\tREGION\tZONE")
			for _, c := range cells {
				fmt.Fprintf(w, "%s\t%s\t%s\n", c.Name, c.Region, c.Zone)
			}
		}
	case "keyspaces":
		var kss []*topology.Keyspace
		for _, n := range topo.KeyspaceNames() {
			kss = append(kss, topo.Keyspaces[n])
		}
		rows, table = kss, func(w *tabwriter.Writer) {
			fmt.Fprintln(w, "KEYSPACE\tTENANT\tSHARDS\tSCHEMA VERSIONS\tLAG MAX\tCROSS REGION")
			for _, ks := range kss {
				fmt.Fprintf(w, "%s\t%s\t%d\t%v\t%v\t%v\n", ks.Name, ks.Tenant, len(topo.ShardsOf(ks.Name)), ks.SchemaVersions, ks.Lag.Max, ks.Failover.CrossRegion)
			}
		}
	case "tablets":
		var ts []*topology.Tablet
		for _, s := range topo.Shards {
			ts = append(ts, s.Tablets...)
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].Alias < ts[j].Alias })
		rows, table = ts, func(w *tabwriter.Writer) {
			fmt.Fprintln(w, "ALIAS\tKEYSPACE\tSHARD\tTYPE\tCELL\tSTATE\tLAG\tSCHEMA\tWEIGHT\tHEALTH ERROR")
			for _, t := range ts {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%v\t%s\t%d\t%s\n", t.Alias, t.Keyspace, t.Shard, t.Type, t.Cell, t.State,
					t.ReplicationLag, t.SchemaVersion, t.Weight, t.HealthError)
			}
		}
		defer printProblems(e.stdout, topo, *format)
	default:
		return fmt.Errorf("%w: get %q: want cells, keyspaces or tablets", errUsage, pos[0])
	}
	return write(e.stdout, *format, rows, table)
}

// printProblems lists invalid records after a tablet table: they exist in
// etcd but route nothing.
func printProblems(w io.Writer, topo *topology.Topology, format string) {
	if format != "table" || len(topo.Problems) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%d invalid record(s), not routed:\n", len(topo.Problems))
	for _, p := range topo.Problems {
		fmt.Fprintf(w, "  %s: %v\n", p.Key, p.Err)
	}
}

func write(w io.Writer, format string, rows any, table func(*tabwriter.Writer)) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "yaml":
		b, err := yaml.Marshal(rows)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case "table":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		table(tw)
		return tw.Flush()
	}
	return fmt.Errorf("%w: -o %q: want table, json or yaml", errUsage, format)
}
