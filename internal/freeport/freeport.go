// Package freeport picks TCP ports for listeners that are bound some time
// after the port is chosen.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
)

// base is the lowest port Addr picks.
const base = 10000

// Addr returns host:port with a port that is free now, chosen below the
// kernel's ephemeral range. A port from the ephemeral range (what
// listening on port 0 gives) can become the local end of any outgoing
// connection on the machine before the listener that needs it binds, or
// while a process that will bind it again is down; below the range only
// another explicit bind can take it. If no such port is found, Addr falls
// back to one from the ephemeral range.
func Addr(host string) (string, error) {
	lo := ephemeralLow()
	for range 200 {
		if lo <= base+1000 {
			break
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(base+rand.IntN(lo-base))))
		if err != nil {
			continue // taken
		}
		defer l.Close()
		return l.Addr().String(), nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// ephemeralLow is the lowest port of the kernel's ephemeral range (Linux's
// default when it cannot be read).
func ephemeralLow() int {
	lo := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		fmt.Sscan(string(b), &lo)
	}
	return lo
}
