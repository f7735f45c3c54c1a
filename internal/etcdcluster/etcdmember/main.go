// Command etcdmember runs one etcd cluster member at the version shardmesh's
// etcd client is built against (go.mod's go.etcd.io/etcd/server/v3), by
// etcd's embed package. internal/etcdcluster builds it to run real etcd
// members as separate processes: Debian 12's etcd-server is 3.4, older than
// the v3.7 client. It exits 1 when etcd fails and 0 on SIGTERM/SIGINT.
//
//	etcdmember -name m0 -data-dir DIR -client 127.0.0.1:2379 -peer 127.0.0.1:2380 \
//	    -initial-cluster m0=http://127.0.0.1:2380,m1=... [-existing]
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "etcdmember:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := embed.NewConfig()
	var client, peer string
	var existing bool
	flag.StringVar(&cfg.Name, "name", "", "member name")
	flag.StringVar(&cfg.Dir, "data-dir", "", "data directory")
	flag.StringVar(&client, "client", "", "client host:port")
	flag.StringVar(&peer, "peer", "", "peer host:port")
	flag.StringVar(&cfg.InitialCluster, "initial-cluster", "", "name=http://peer,... of every member")
	flag.BoolVar(&existing, "existing", false, "join an existing cluster (initial-cluster-state existing)")
	flag.UintVar(&cfg.TickMs, "tick-ms", 50, "raft heartbeat interval in ms")
	flag.UintVar(&cfg.ElectionMs, "election-ms", 500, "raft election timeout in ms")
	flag.StringVar(&cfg.LogLevel, "log-level", "warn", "etcd log level")
	flag.Parse()
	if cfg.Name == "" || cfg.Dir == "" || client == "" || peer == "" || cfg.InitialCluster == "" {
		return fmt.Errorf("-name, -data-dir, -client, -peer and -initial-cluster are required")
	}
	cu, pu := url.URL{Scheme: "http", Host: client}, url.URL{Scheme: "http", Host: peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialClusterToken = "shardmesh-etcdcluster"
	if existing {
		cfg.ClusterState = embed.ClusterStateFlagExisting
	}
	cfg.EnableGRPCGateway = false
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start member %s: %w", cfg.Name, err)
	}
	defer e.Close()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	select {
	case err := <-e.Err():
		return fmt.Errorf("member %s: %w", cfg.Name, err)
	case <-sig:
		return nil
	}
}
