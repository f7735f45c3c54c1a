// Package mariadbtest runs real MariaDB servers (Debian's mariadbd) as
// separate processes for tests: each in its own temporary data directory,
// listening on 127.0.0.1, killed (process group, SIGKILL) when the test
// ends. Replicate sets up GTID replication between them, optionally
// semi-synchronous.
//
// A missing mariadbd fails the test unless SHARDMESH_SKIP_MARIADB=1 is set:
// `make test` installs mariadb-server (scripts/debian-deps.sh), so CI never
// skips. Packages that start servers call Main from their TestMain so that
// the data directory template, made once per process by
// mariadb-install-db, is removed afterwards.
package mariadbtest
