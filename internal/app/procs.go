package app

// MinProcs is the least GOMAXPROCS Procs gives xds-server by default.
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

// Procs returns the GOMAXPROCS an xds-server process runs with, given
// --gomaxprocs (n), the current GOMAXPROCS and whether the GOMAXPROCS
// environment variable set it: n when n > 0, else the current value when
// the environment set it, else at least MinProcs. The caller (cmd/) applies
// it with runtime.GOMAXPROCS.
func Procs(n, current int, fromEnv bool) int {
	switch {
	case n > 0:
		return n
	case fromEnv:
		return current
	}
	return max(MinProcs, current)
}
