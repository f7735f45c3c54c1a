// Command demo-mariadb shows tablet agents on real MariaDB: an embedded
// etcd, xds-server, three mariadbd processes (a primary, a semi-sync and an
// async replica, replicating), a tablet agent beside each, and a grpc-go
// xDS client sending replica reads and writes. A script stops a replica's
// SQL thread and restarts it, kills a mysqld, promotes a replica by hand
// and drains an agent; every half step it prints where the calls went and
// the records the agents wrote. Needs Debian's mariadb-server.
//
//	go run ./examples/demo-mariadb [-step 4s]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

func main() {
	step := flag.Duration("step", 4*time.Second, "how long each scene lasts")
	flag.Parse()
	// The driver logs broken connections to the mysqld the script kills.
	_ = mysql.SetLogger(log.New(io.Discard, "", 0))
	// SIGPIPE too (| head): end the demo cleanly, removing its data
	// directories, rather than die on the first write.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	defer stop()
	sum, err := run(ctx, *step, os.Stdout)
	if err == nil {
		err = sum.check()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo-mariadb:", err)
		os.Exit(1)
	}
}
