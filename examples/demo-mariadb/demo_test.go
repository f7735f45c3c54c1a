package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/mariadbtest"
)

func TestMain(m *testing.M) { os.Exit(mariadbtest.Main(m)) }

// TestDemoMariaDBShort runs the demo with 2-second scenes and checks each
// scene did what it shows: reads left the replica whose SQL thread stopped
// and came back, left the one whose mysqld died, writes followed the
// switchover, reads left the drained replica.
func TestDemoMariaDBShort(t *testing.T) {
	if _, err := os.Stat(mariadbtest.MariaDBD); err != nil && os.Getenv(mariadbtest.SkipEnv) == "1" {
		t.Skipf("mariadbd not installed and %s=1", mariadbtest.SkipEnv)
	}
	var out bytes.Buffer
	sum, err := run(context.Background(), 2*time.Second, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if err := sum.check(); err != nil {
		t.Errorf("%v\n%+v\n%s", err, sum, out.String())
	}
	for _, want := range []string{"STOP SLAVE SQL_THREAD", "kill -9", "switch over", "SIGTERM", "done"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
