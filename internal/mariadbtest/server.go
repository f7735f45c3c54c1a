package mariadbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/shardmesh/shardmesh/internal/proctest"
)

// SkipEnv, set to 1, lets tests skip when mariadbd is not installed. Without
// it a missing mariadbd fails the test: CI must never skip silently.
const SkipEnv = "SHARDMESH_SKIP_MARIADB"

// Binaries the harness runs; Debian's mariadb-server installs both.
var (
	MariaDBD  = "/usr/sbin/mariadbd"
	InstallDB = "/usr/bin/mariadb-install-db"
)

// Small InnoDB files: a test instance holds a few rows.
var innodbArgs = []string{"--innodb-log-file-size=4M", "--innodb-buffer-pool-size=16M"}

// T is the part of testing.TB the harness uses, so that the MariaDB demo
// (examples/demo-mariadb) can run servers outside a test.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
}

var _ T = testing.TB(nil)

// Server is one running mariadbd on 127.0.0.1 with its own data directory.
// Root (no password: a test server) connects over the Unix socket; every
// other user connects over TCP.
type Server struct {
	Name     string
	ServerID int
	Port     int
	Dir      string
	Socket   string

	t    T
	mu   sync.Mutex // guards cmd, done
	cmd  *exec.Cmd
	done chan struct{}
	root *sql.DB
}

// Start starts a mariadbd with a fresh data directory (a copy of a template
// made once per test process, see Main) and stops it when the test ends.
// serverID must differ between servers that replicate.
func Start(t T, name string, serverID int) *Server {
	t.Helper()
	requireBinaries(t)
	tmpl, err := template()
	if err != nil {
		t.Fatalf("mariadb %s: %v", name, err)
	}
	// Unix socket paths are limited to 108 bytes: keep the directory short.
	dir, err := os.MkdirTemp("", "mdb-"+name+"-")
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if out, err := exec.Command("cp", "-a", tmpl, filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		t.Fatalf("mariadb %s: copy template: %v: %s", name, err, out)
	}
	s := &Server{Name: name, ServerID: serverID, Port: freePort(t), Dir: dir, Socket: filepath.Join(dir, "mysqld.sock"), t: t}
	s.Restart()
	t.Cleanup(func() {
		if s.root != nil {
			s.root.Close()
		}
		s.Kill()
	})
	return s
}

// Restart starts mariadbd again on the same data directory and port after
// Kill, and waits until it answers. A replica resumes replicating by itself,
// but its read_only (set at run time by Replicate) is off again, as for a
// replica whose configuration file does not set it.
func (s *Server) Restart() {
	s.t.Helper()
	cmd := exec.Command(MariaDBD, "--no-defaults",
		"--datadir="+filepath.Join(s.Dir, "data"), "--socket="+s.Socket,
		"--port="+strconv.Itoa(s.Port), "--bind-address=127.0.0.1",
		"--server-id="+strconv.Itoa(s.ServerID), "--log-bin=binlog", "--binlog-format=ROW",
		"--log-slave-updates", "--skip-name-resolve",
		"--pid-file="+filepath.Join(s.Dir, "mysqld.pid"), "--log-error="+filepath.Join(s.Dir, "error.log"))
	cmd.Args = append(cmd.Args, innodbArgs...)
	cmd.Args = append(cmd.Args, userArgs()...)
	cmd.SysProcAttr = ProcAttr()
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("mariadb %s: start: %v", s.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	if s.root == nil {
		cfg := mysql.NewConfig()
		cfg.User, cfg.Net, cfg.Addr = "root", "unix", s.Socket
		cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 2*time.Second, 10*time.Second, 10*time.Second
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			s.t.Fatalf("%v", err)
		}
		s.root = sql.OpenDB(conn)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.root.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(s.Dir, "error.log"))
			s.t.Fatalf("mariadb %s exited at start: %s", s.Name, log)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("mariadb %s: not answering after 30s: %v", s.Name, err)
		}
		time.Sleep(50 * time.Millisecond) // polling a process that is starting
	}
}

// Kill stops mariadbd with SIGKILL (a crash) and waits until it is gone.
// Killing a stopped server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.t.Errorf("mariadb %s: still running 10s after SIGKILL", s.Name)
	}
	if s.root != nil {
		// Connections to the dead server are broken; drop them.
		s.root.SetMaxIdleConns(0)
		s.root.SetMaxIdleConns(2)
	}
}

// Exec runs statements as root, failing the test on error.
func (s *Server) Exec(stmts ...string) {
	s.t.Helper()
	for _, q := range stmts {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := s.root.ExecContext(ctx, q)
		cancel()
		if err != nil {
			s.t.Fatalf("mariadb %s: %s: %v", s.Name, q, err)
		}
	}
}

// QueryRow runs a query as root and scans its one row into dest.
func (s *Server) QueryRow(query string, dest ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.root.QueryRowContext(ctx, query).Scan(dest...)
}

// DSN is a go-sql-driver DSN for user over TCP to this server.
func (s *Server) DSN(user, password string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net = user, password, "tcp"
	cfg.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	return cfg.FormatDSN()
}

// freePort returns a free port below the ephemeral range, so that a
// restarted server finds it free (see proctest.FreeAddr).
func freePort(t T) int {
	t.Helper()
	addr, err := proctest.FreeAddr()
	if err != nil {
		t.Fatalf("%v", err)
	}
	_, port, _ := net.SplitHostPort(addr)
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return n
}

func requireBinaries(t T) {
	t.Helper()
	for _, bin := range []string{MariaDBD, InstallDB} {
		if _, err := os.Stat(bin); err != nil {
			if os.Getenv(SkipEnv) == "1" {
				t.Skipf("%s not installed and %s=1", bin, SkipEnv)
			}
			t.Fatalf("%s not installed (make deps installs mariadb-server; set %s=1 to skip): %v", bin, SkipEnv, err)
		}
	}
}

// userArgs runs mariadbd as root when the tests run as root (it refuses to
// otherwise); any other user runs it as itself.
func userArgs() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

var tmpl struct {
	sync.Mutex
	dir string
}

// template returns a data directory made by mariadb-install-db, made once
// per test process; Main removes it.
func template() (string, error) {
	tmpl.Lock()
	defer tmpl.Unlock()
	if tmpl.dir != "" {
		return filepath.Join(tmpl.dir, "data"), nil
	}
	dir, err := os.MkdirTemp("", "mdb-template-")
	if err != nil {
		return "", err
	}
	args := append([]string{"--no-defaults", "--datadir=" + filepath.Join(dir, "data"),
		"--auth-root-authentication-method=normal", "--skip-test-db"}, innodbArgs...)
	args = append(args, userArgs()...)
	if out, err := exec.Command(InstallDB, args...).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("mariadb-install-db: %w: %s", err, out)
	}
	tmpl.dir = dir
	return filepath.Join(dir, "data"), nil
}

// Main runs the tests of a package that starts servers and removes the
// template data directory afterwards: call it from TestMain.
func Main(m *testing.M) int {
	defer RemoveTemplate()
	return m.Run()
}

// RemoveTemplate removes the template data directory; the next Start makes
// a new one.
func RemoveTemplate() {
	tmpl.Lock()
	defer tmpl.Unlock()
	if tmpl.dir != "" {
		os.RemoveAll(tmpl.dir)
		tmpl.dir = ""
	}
}
