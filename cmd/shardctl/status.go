package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/shardmesh/shardmesh/pkg/xdsserver"
)

// runStatus prints the nodes connected to xds-server, like istioctl
// proxy-status: group, client family, release and encoding, the version
// each type is at, and the last NACK.
func runStatus(ctx context.Context, e env, args []string) error {
	fs := subflags("status", e.stdout)
	if _, err := parseSub(fs, args); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.admin+"/debug/nodes", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("admin API %s: %w", e.admin, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("admin API %s/debug/nodes: %s", e.admin, resp.Status)
	}
	var nodes []xdsserver.NodeStatus
	if err := json.NewDecoder(resp.Body).Decode(&nodes); err != nil {
		return fmt.Errorf("admin API %s/debug/nodes: %w", e.admin, err)
	}
	sort.Slice(nodes, func(i, j int) bool {
		if nodes[i].Group != nodes[j].Group {
			return nodes[i].Group < nodes[j].Group
		}
		return nodes[i].NodeID < nodes[j].NodeID
	})
	short := map[string]string{"Cluster": "CDS", "ClusterLoadAssignment": "EDS", "Listener": "LDS", "RouteConfiguration": "RDS", "ScopedRouteConfiguration": "SRDS"}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tGROUP\tCLIENT\tENCODING\tSTREAM\tACKED\tLAST NACK")
	for _, n := range nodes {
		var acked []string
		for typ, v := range n.Acked {
			name := typ[strings.LastIndex(typ, ".")+1:]
			acked = append(acked, short[name]+"="+v)
		}
		sort.Strings(acked)
		nack := "-"
		if n.LastNack != nil {
			nack = fmt.Sprintf("%s %s: %s", n.LastNack.TypeURL[strings.LastIndex(n.LastNack.TypeURL, ".")+1:], n.LastNack.Version, n.LastNack.Error)
		}
		kind := "sotw"
		if n.Delta {
			kind = "delta"
		}
		client := string(n.Client.Family)
		if n.Client.Version != "" {
			client += " " + n.Client.Version
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.NodeID, n.Group, client, n.Client.Encoding, kind, strings.Join(acked, " "), nack)
	}
	return tw.Flush()
}
