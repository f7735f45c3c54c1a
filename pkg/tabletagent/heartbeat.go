package tabletagent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The heartbeat table, as Vitess's and pt-heartbeat's: the primary's agent
// writes its clock into one row every heartbeat interval; the row
// replicates, and a replica's lag is its clock minus the row's ts (clocks
// must be synchronised, as for pt-heartbeat). The row also carries the
// primary's term, so that primary_term_start survives agent restarts.
const (
	heartbeatSchema = "CREATE DATABASE IF NOT EXISTS _shardmesh"
	heartbeatTable  = `CREATE TABLE IF NOT EXISTS _shardmesh.heartbeat (
  id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  ts BIGINT NOT NULL COMMENT 'primary clock, microseconds since the epoch',
  server_id INT UNSIGNED NOT NULL COMMENT '@@server_id of the primary that wrote ts',
  term_start BIGINT NOT NULL COMMENT 'when that primary became writable, microseconds since the epoch'
) ENGINE=InnoDB`
)

func micros(t time.Time) int64 { return t.UnixMicro() }

// heartbeatLag reads the replicated heartbeat row; false when there is
// none (no primary agent yet): the caller falls back to
// Seconds_Behind_Master.
func (p *prober) heartbeatLag(ctx context.Context) (time.Duration, bool) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var ts int64
	if err := p.db.QueryRowContext(ctx, "SELECT ts FROM _shardmesh.heartbeat WHERE id = 1").Scan(&ts); err != nil {
		return 0, false
	}
	return max(0, p.now().Sub(time.UnixMicro(ts))), true
}

// primaryTerm returns the start of this primary's term from the heartbeat
// row, creating the table and row when missing. A row written by another
// server (the previous primary, replicated here), or newTerm (the agent saw
// this instance go from read-only to writable), starts a new term now; a
// row of this server keeps its term, so an agent restart does not change
// it.
func (p *prober) primaryTerm(ctx context.Context, serverID uint32, newTerm bool) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var owner uint32
	var start int64
	err := p.db.QueryRowContext(ctx, "SELECT server_id, term_start FROM _shardmesh.heartbeat WHERE id = 1").Scan(&owner, &start)
	switch {
	case err == nil && owner == serverID && !newTerm:
		return time.UnixMicro(start).UTC(), nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		// Most likely the table does not exist yet: create it. A real
		// failure shows again in the statements below.
		for _, q := range []string{heartbeatSchema, heartbeatTable} {
			if _, err := p.db.ExecContext(ctx, q); err != nil {
				return time.Time{}, fmt.Errorf("heartbeat table: %w", err)
			}
		}
	}
	now := p.now()
	_, err = p.db.ExecContext(ctx, `INSERT INTO _shardmesh.heartbeat (id, ts, server_id, term_start) VALUES (1, ?, ?, ?)
ON DUPLICATE KEY UPDATE ts = VALUES(ts), server_id = VALUES(server_id), term_start = VALUES(term_start)`,
		micros(now), serverID, micros(now))
	if err != nil {
		return time.Time{}, fmt.Errorf("heartbeat: new term: %w", err)
	}
	return time.UnixMicro(micros(now)).UTC(), nil
}

// beat writes the primary's clock into the heartbeat row.
func (p *prober) beat(ctx context.Context, serverID uint32) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	_, err := p.db.ExecContext(ctx, "UPDATE _shardmesh.heartbeat SET ts = ? WHERE id = 1 AND server_id = ?", micros(p.now()), serverID)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}
