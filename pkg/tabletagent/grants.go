package tabletagent

import "fmt"

// MariaDBGrants returns the statements that give a MariaDB (10.5.9 or
// later) account exactly the privileges the agent needs: reading the
// replication status (SLAVE MONITOR), and creating, writing and reading
// the _shardmesh schema (heartbeat row, default schema version table).
// The account needs no SUPER nor READ_ONLY ADMIN: the agent must not be
// able to write to a read-only instance. user is 'name'@'host'.
//
// On MySQL, grant REPLICATION CLIENT instead of SLAVE MONITOR.
func MariaDBGrants(user string) []string {
	return []string{
		fmt.Sprintf("GRANT SLAVE MONITOR ON *.* TO %s", user),
		fmt.Sprintf("GRANT SELECT, INSERT, UPDATE, CREATE ON `_shardmesh`.* TO %s", user),
	}
}
