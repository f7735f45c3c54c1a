package app

import (
	"os"
	"runtime"
)

// MinProcs is the least GOMAXPROCS SetProcs gives xds-server by default.
//
// Go's scheduler runs the goroutines queued on each P in turn. During a
// reconnect storm thousands of stream goroutines are runnable at once, and
// a topology update, which passes through several goroutines (etcd watch,
// rebuild, each stream's send), waits behind them at each step. With more
// Ps than CPUs the kernel time-slices the Ps' threads, and the update's
// goroutines run within a time slice. On 2 CPUs, with 5,000 streams
// arriving in a second, the slowest update reached other streams in 0.6–0.9
// s with GOMAXPROCS 2 and 0.1–0.35 s with 16, for 15 % more CPU
// (docs/performance.md, "Reconnect storm").
const MinProcs = 16

// SetProcs sets GOMAXPROCS for an xds-server process: to n when n > 0;
// otherwise to at least MinProcs, unless the GOMAXPROCS environment
// variable set it. It returns the value in force.
func SetProcs(n int) int {
	switch {
	case n > 0:
		runtime.GOMAXPROCS(n)
	case os.Getenv("GOMAXPROCS") == "":
		runtime.GOMAXPROCS(max(MinProcs, runtime.GOMAXPROCS(0)))
	}
	return runtime.GOMAXPROCS(0)
}
