package e2e

import "testing"

func TestCCoreSmoke(t *testing.T) {
	e := newEnv(t)
	c := e.dialCCore(inR1A, "commerce")
	for i := 0; i < 5; i++ {
		t.Log(c.Count(t, 5, "x-shard", "-80"))
	}
	t.Log(c.stderr.String())
}
