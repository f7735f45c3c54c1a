//go:build !linux

package mariadbtest

import "syscall"

// ProcAttr puts a child in its own process group, so Kill reaches all of it.
func ProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
