package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/app"
	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

func TestBadFlagsNameTheFlag(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"unknown flag":        {[]string{"--no-such-flag"}, "no-such-flag"},
		"negative gomaxprocs": {[]string{"--gomaxprocs=-1"}, "--gomaxprocs"},
		"bad log level":       {[]string{"--log-level=loud"}, "--log-level"},
		"holdoff over max":    {[]string{"--batch-holdoff=1s", "--batch-max-delay=10ms"}, "--batch-holdoff"},
		"prefix without /":    {[]string{"--etcd-prefix=/shardmesh"}, "--etcd-prefix"},
		"bad duration":        {[]string{"--batch-holdoff=soon"}, "batch-holdoff"},
		"stray argument":      {[]string{"serve"}, "unexpected arguments"},
		"unknown source":      {[]string{"--source=zookeeper"}, "--source"},
		"zero age grace":      {[]string{"--max-connection-age-grace=0s"}, "--max-connection-age-grace"},
		"negative drain":      {[]string{"--drain-timeout=-1s"}, "--drain-timeout"},
		"missing seed file":   {[]string{"--seed=/nonexistent.yaml", "--embedded-etcd-addr=127.0.0.1:0", "--xds-addr=127.0.0.1:0", "--admin-addr=", "--etcd-data-dir=" + t.TempDir()}, "--seed"},
		"xds-addr not usable": {[]string{"--xds-addr=256.0.0.1:1", "--embedded-etcd-addr=127.0.0.1:0", "--admin-addr=", "--etcd-data-dir=" + t.TempDir()}, "--xds-addr"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := run(tc.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error naming %q", tc.args, err, tc.want)
			}
		})
	}
}

// TestExampleTopologyIsRouted is `make run` in-process: the example seed on
// an embedded etcd, tablets listening on the example's ports, and a grpc-go
// client dialing xds:///commerce from us-east-1a.
func TestExampleTopologyIsRouted(t *testing.T) {
	data, err := os.ReadFile("../../examples/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := topology.ParseSeed(data)
	if err != nil {
		t.Fatalf("examples/topology.yaml: %v", err)
	}
	ports := map[string]uint32{}
	for _, r := range recs {
		if alias, ok := strings.CutPrefix(r.Key, topology.TabletsPrefix); ok {
			var rec struct {
				PortMap map[string]uint32 `json:"port_map"`
			}
			if err := json.Unmarshal(r.Value, &rec); err != nil {
				t.Fatal(err)
			}
			ports[alias] = rec.PortMap["grpc"]
		}
	}
	backends := xdstest.StartBackendsAt(t, ports)
	cfg, _, _, err := parseFlags([]string{"--seed=../../examples/topology.yaml", "--embedded-etcd-addr=127.0.0.1:0",
		"--xds-addr=127.0.0.1:0", "--admin-addr=127.0.0.1:0", "--etcd-data-dir=" + t.TempDir()}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	c := xdstest.Dial(t, a.XDSAddr.String(), xdstest.Node{ID: "example", Region: "us-east-1", Zone: "us-east-1a"}, "commerce", backends)
	cases := map[string]struct {
		headers []string
		want    string
	}{
		"writes to -80":             {[]string{"x-shard", "-80"}, "zone1-0000000101"},
		"writes to 80-":             {[]string{"x-keyspace-id", "c0ffee0000000000"}, "zone2-0000000211"},
		"replica reads in the zone": {[]string{"x-tablet-type", "replica", "x-shard", "-80"}, "zone1-0000000102"},
		"rdonly in another region":  {[]string{"x-tablet-type", "rdonly", "x-shard", "-80"}, "zone3-0000000302"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
				got := c.Count(10, tc.headers...)
				return got.Only(tc.want), got.String()
			})
		})
	}
}
