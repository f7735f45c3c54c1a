package app

import "testing"

func TestProcs(t *testing.T) {
	for name, tc := range map[string]struct {
		flag, current int
		fromEnv       bool
		want          int
	}{
		"default on 2 CPUs":             {0, 2, false, MinProcs},
		"default on many CPUs":          {0, MinProcs + 8, false, MinProcs + 8},
		"--gomaxprocs":                  {3, 2, false, 3},
		"--gomaxprocs over the env":     {3, 5, true, 3},
		"GOMAXPROCS in the environment": {0, 5, true, 5},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Procs(tc.flag, tc.current, tc.fromEnv); got != tc.want {
				t.Errorf("Procs(%d, %d, %v) = %d, want %d", tc.flag, tc.current, tc.fromEnv, got, tc.want)
			}
		})
	}
}
