package tabletagent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Status is what one probe learned from MySQL.
type Status struct {
	// Err is set when MySQL is unreachable or a probe query failed; the
	// other fields are then zero.
	Err error
	// ServerID is @@server_id; the heartbeat row names the primary by it.
	ServerID uint32
	// Writable: read_only and super_read_only (MySQL) are both off.
	Writable bool
	// HasSource: a replication source is configured (SHOW REPLICA STATUS
	// has a row).
	HasSource bool
	// IORunning and SQLRunning are the replication threads; an IO thread
	// that is connecting counts as running.
	IORunning, SQLRunning bool
	// IOError and SQLError are Last_IO_Error and Last_SQL_Error.
	IOError, SQLError string
	// Lag is the replication lag, from the heartbeat row when there is one
	// (LagFromHeartbeat), else Seconds_Behind_Master; LagKnown is false
	// when neither is available.
	Lag              time.Duration
	LagKnown         bool
	LagFromHeartbeat bool
	// SemiSync: the replica's semi-sync status is ON.
	SemiSync bool
	// SchemaVersion is the schema version query's answer ("" when it
	// fails).
	SchemaVersion string
	// TermStart is when the current primary term began, from the heartbeat
	// row; set only on a primary.
	TermStart time.Time
}

// Replicating reports whether a replication thread runs.
func (s Status) Replicating() bool { return s.HasSource && (s.IORunning || s.SQLRunning) }

// prober runs the probe queries, each bounded by the query timeout.
type prober struct {
	db      *sql.DB
	timeout time.Duration
	schemaQ string
	schema  string // the last schema version read
	now     func() time.Time
}

func (p *prober) query(ctx context.Context, what, q string, args ...any) (*sql.Rows, context.CancelFunc, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	rows, err := p.db.QueryContext(ctx, q, args...)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	return rows, cancel, nil
}

// probe reads everything but the primary's term (see heartbeat.go).
func (p *prober) probe(ctx context.Context) Status {
	var st Status
	rows, cancel, err := p.query(ctx, "mysql unreachable", "SELECT 1")
	if err != nil {
		return Status{Err: err}
	}
	rows.Close()
	cancel()
	vars, err := p.nameValues(ctx, "read_only", "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('read_only', 'super_read_only', 'server_id')")
	if err != nil {
		return Status{Err: err}
	}
	st.Writable = vars["read_only"] == "OFF" && vars["super_read_only"] != "ON"
	var id uint64
	if _, err := fmt.Sscan(vars["server_id"], &id); err != nil {
		return Status{Err: fmt.Errorf("server_id %q: %w", vars["server_id"], err)}
	}
	st.ServerID = uint32(id)
	if err := p.replication(ctx, &st); err != nil {
		return Status{Err: err}
	}
	semi, err := p.nameValues(ctx, "semi-sync status", "SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_slave_status', 'Rpl_semi_sync_replica_status')")
	if err != nil {
		return Status{Err: err}
	}
	st.SemiSync = semi["Rpl_semi_sync_slave_status"] == "ON" || semi["Rpl_semi_sync_replica_status"] == "ON"
	if st.HasSource {
		if lag, ok := p.heartbeatLag(ctx); ok {
			st.Lag, st.LagKnown, st.LagFromHeartbeat = lag, true, true
		}
	}
	st.SchemaVersion = p.schemaVersion(ctx)
	return st
}

// nameValues runs a SHOW VARIABLES/STATUS query and returns name → value.
func (p *prober) nameValues(ctx context.Context, what, q string) (map[string]string, error) {
	rows, cancel, err := p.query(ctx, what, q)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out[name] = strings.ToUpper(value)
		if name == "server_id" {
			out[name] = value
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// replication reads SHOW REPLICA STATUS (MariaDB ≥ 10.5, MySQL ≥ 8.0.22),
// falling back to SHOW SLAVE STATUS, by column name so that both servers'
// column sets work.
func (p *prober) replication(ctx context.Context, st *Status) error {
	rows, cancel, err := p.query(ctx, "replica status", "SHOW REPLICA STATUS")
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1064 { // syntax error: an older server
		rows, cancel, err = p.query(ctx, "replica status", "SHOW SLAVE STATUS")
	}
	if err != nil {
		return err
	}
	defer cancel()
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("replica status: %w", err)
	}
	if !rows.Next() {
		return rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return fmt.Errorf("replica status: %w", err)
	}
	col := func(names ...string) sql.NullString {
		for i, c := range cols {
			for _, n := range names {
				if strings.EqualFold(c, n) {
					return vals[i]
				}
			}
		}
		return sql.NullString{}
	}
	st.HasSource = col("Master_Host", "Source_Host").String != ""
	st.IORunning = !strings.EqualFold(col("Slave_IO_Running", "Replica_IO_Running").String, "No")
	st.SQLRunning = strings.EqualFold(col("Slave_SQL_Running", "Replica_SQL_Running").String, "Yes")
	st.IOError = col("Last_IO_Error").String
	st.SQLError = col("Last_SQL_Error").String
	if sbm := col("Seconds_Behind_Master", "Seconds_Behind_Source"); sbm.Valid {
		var secs int64
		if _, err := fmt.Sscan(sbm.String, &secs); err == nil {
			st.Lag, st.LagKnown = time.Duration(secs)*time.Second, true
		}
	}
	return nil
}

// schemaVersion runs the schema version query: "" when there is no such
// table or row (keyspaces with schema_versions then exclude the tablet),
// the last version read when the query fails otherwise (a timeout must not
// flap routing).
func (p *prober) schemaVersion(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var v sql.NullString
	err := p.db.QueryRowContext(ctx, p.schemaQ).Scan(&v)
	var me *mysql.MySQLError
	switch {
	case err == nil:
		p.schema = v.String
	case errors.Is(err, sql.ErrNoRows), errors.As(err, &me) && (me.Number == 1146 || me.Number == 1049):
		p.schema = "" // no such table, no such database
	}
	return p.schema
}
