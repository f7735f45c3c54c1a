package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestAddrIsBelowTheEphemeralRange(t *testing.T) {
	lo := ephemeralLow()
	for range 20 {
		addr, err := Addr("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(addr)
		if p, _ := strconv.Atoi(port); p < base || p >= lo {
			t.Fatalf("port %d, want one in [%d, %d)", p, base, lo)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s is not free: %v", addr, err)
		}
		l.Close()
	}
}
