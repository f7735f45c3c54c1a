package whatif

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/shardmesh/shardmesh/pkg/weights"
)

// WriteText prints a report for a terminal: one line per client locality,
// shard and class (only the changed ones when changedOnly), then every
// class left with no eligible tablet and why.
func (r Report) WriteText(w io.Writer, changedOnly bool) error {
	fmt.Fprintf(w, "what-if %s (%s clients; nothing is written to etcd)\n", strings.Join(r.Changes, ", "), r.Kind)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tSHARD\tCLASS\tBEFORE\t\tAFTER\tCROSS-REGION")
	unchanged := 0
	for _, row := range r.Rows {
		if changedOnly && !row.Changed {
			unchanged++
			continue
		}
		arrow, after := "->", splitText(row.After)
		if !row.Changed {
			arrow, after = "", "unchanged"
		}
		if row.Lost {
			after = "NO ELIGIBLE TABLET"
		}
		cross := ""
		if row.CrossRegion > 0 || row.CrossRegionBefore > 0 {
			cross = fmt.Sprintf("%.0f%% -> %.0f%%", 100*row.CrossRegionBefore, 100*row.CrossRegion)
		}
		line := fmt.Sprintf("%s/%s\t%s/%s\t%s\t%s\t%s\t%s", row.Region, row.Zone, row.Keyspace, row.Shard, row.Class, splitText(row.Before), arrow, after)
		if cross != "" {
			line += "\t" + cross
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if unchanged > 0 {
		fmt.Fprintf(w, "(%d unchanged rows not shown)\n", unchanged)
	}
	if r.Lost == 0 {
		fmt.Fprintln(w, "every class keeps an eligible tablet")
		return nil
	}
	fmt.Fprintf(w, "%d client/class pairs left with NO ELIGIBLE TABLET (gRPC UNAVAILABLE, Envoy 503):\n", r.Lost)
	type lost struct{ keyspace, shard, class string }
	var order []lost
	clients := map[lost][]string{}
	rows := map[lost]Row{}
	for _, row := range r.Rows {
		if !row.Lost {
			continue
		}
		k := lost{row.Keyspace, row.Shard, string(row.Class)}
		if _, ok := rows[k]; !ok {
			order = append(order, k)
			rows[k] = row
		}
		clients[k] = append(clients[k], row.Region+"/"+row.Zone)
	}
	for _, k := range order {
		row := rows[k]
		fmt.Fprintf(w, "  %s/%s %s (was %s) for clients in %s\n", k.keyspace, k.shard, k.class, splitText(row.Before), strings.Join(clients[k], ", "))
		listed := 0
		for _, d := range row.Why {
			if d.Reason != weights.ReasonType {
				fmt.Fprintf(w, "    %s: %s\n", d.Alias, d.Detail)
				listed++
			}
		}
		if listed == 0 {
			fmt.Fprintf(w, "    no %s tablet left\n", k.class)
		}
	}
	return nil
}

// splitText is "zone1-0000000102 70%, zone2-0000000201 30%", or "none".
func splitText(s []Share) string {
	if len(s) == 0 {
		return "none"
	}
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = fmt.Sprintf("%s %.0f%%", x.Alias, 100*x.Share)
	}
	return strings.Join(parts, ", ")
}
