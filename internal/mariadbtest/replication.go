package mariadbtest

import "fmt"

// Replication account created on the primary by Replicate.
const (
	replUser     = "repl"
	replPassword = "repl-test-password"
)

// Replicate makes replica a read-only GTID replica of primary and starts
// replication; a replica of another primary is re-pointed, and a demoted
// primary continues from its own last transaction (MASTER_USE_GTID =
// current_pos). With semiSync the primary waits for this replica's
// acknowledgement (for at most 500 ms, then falls back to async, so that a
// killed replica does not stall the primary's writes).
func Replicate(primary, replica *Server, semiSync bool) {
	primary.t.Helper()
	primary.Exec(
		"CREATE USER IF NOT EXISTS '"+replUser+"'@'%' IDENTIFIED BY '"+replPassword+"'",
		"GRANT REPLICATION SLAVE ON *.* TO '"+replUser+"'@'%'",
	)
	if semiSync {
		primary.Exec("SET GLOBAL rpl_semi_sync_master_enabled = ON",
			"SET GLOBAL rpl_semi_sync_master_timeout = 500")
		replica.Exec("SET GLOBAL rpl_semi_sync_slave_enabled = ON")
	}
	replica.Exec(
		"STOP SLAVE",
		"SET GLOBAL read_only = ON",
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='%s', "+
			"MASTER_PASSWORD='%s', MASTER_USE_GTID=current_pos, MASTER_CONNECT_RETRY=1",
			primary.Port, replUser, replPassword),
		"START SLAVE",
	)
}

// WaitCaughtUp waits (10 s at most) until replica has applied everything
// primary has written so far.
func WaitCaughtUp(primary, replica *Server) {
	primary.t.Helper()
	var pos string
	if err := primary.QueryRow("SELECT @@GLOBAL.gtid_binlog_pos", &pos); err != nil {
		primary.t.Fatalf("mariadb %s: gtid_binlog_pos: %v", primary.Name, err)
	}
	var res int
	if err := replica.QueryRow(fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', 10)", pos), &res); err != nil || res != 0 {
		replica.t.Fatalf("mariadb %s: not caught up with %s (%s) within 10s: %v", replica.Name, primary.Name, pos, err)
	}
}
