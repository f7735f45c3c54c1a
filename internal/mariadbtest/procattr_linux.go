package mariadbtest

import "syscall"

// ProcAttr puts a child in its own process group (so Kill reaches all of
// it) and has the kernel kill it if this process dies without cleaning up
// (a test binary killed by -timeout, a demo killed by SIGPIPE).
func ProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
