package app

import (
	"runtime"
	"testing"
)

func TestSetProcs(t *testing.T) {
	was := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(was) })

	t.Setenv("GOMAXPROCS", "")
	runtime.GOMAXPROCS(2)
	if got := SetProcs(0); got != MinProcs {
		t.Errorf("default on 2 Ps: GOMAXPROCS %d, want %d", got, MinProcs)
	}
	runtime.GOMAXPROCS(MinProcs + 8)
	if got := SetProcs(0); got != MinProcs+8 {
		t.Errorf("default on %d Ps: GOMAXPROCS %d, want it kept", MinProcs+8, got)
	}
	if got := SetProcs(3); got != 3 {
		t.Errorf("--gomaxprocs=3: GOMAXPROCS %d", got)
	}
	t.Setenv("GOMAXPROCS", "5")
	runtime.GOMAXPROCS(5)
	if got := SetProcs(0); got != 5 {
		t.Errorf("GOMAXPROCS=5 in the environment: GOMAXPROCS %d, want 5", got)
	}
}
