package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBadFlagsFailAtStartNamingTheFlag(t *testing.T) {
	good := []string{"--alias", "zone1-0000000101", "--keyspace", "commerce", "--shard", "-80", "--hostname", "10.0.0.1",
		"--port-map", "grpc=15991,mysql=3306", "--mysql-dsn", "agent@tcp(127.0.0.1:3306)/"}
	set := func(flag, value string) []string {
		out := append([]string(nil), good...)
		for i := range out {
			if out[i] == flag {
				out[i+1] = value
				return out
			}
		}
		return append(out, flag, value)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"password in the DSN":   {set("--mysql-dsn", "agent:secret@tcp(127.0.0.1:3306)/"), "--mysql-dsn: holds a password"},
		"unparsable DSN":        {set("--mysql-dsn", "agent@tcp(127.0.0.1:3306"), "--mysql-dsn: "},
		"DSN without a user":    {set("--mysql-dsn", "tcp(127.0.0.1:3306)/"), "--mysql-dsn: no user"},
		"bad alias":             {set("--alias", "zone1-101"), "--alias: alias \"zone1-101\""},
		"cell not the alias's":  {set("--cell", "zone2"), "--cell: \"zone2\" does not match"},
		"bad port":              {set("--port-map", "grpc=70000"), "--port-map: grpc: \"70000\" is not a port"},
		"bad shard":             {set("--shard", "-8"), "shard: \"-8\""},
		"bad replica type":      {set("--replica-type", "spare"), "replica-type: \"spare\""},
		"missing password file": {set("--mysql-password-file", "/nonexistent/pw"), "--mysql-password-file: "},
		"unknown flag":          {set("--nope", "1"), "flag provided but not defined: -nope"},
	} {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(tc.args, &stderr, func(string) string { return "" })
			if !errors.As(err, new(usageError)) || !strings.Contains(err.Error()+stderr.String(), tc.want) {
				t.Errorf("error %v (stderr %q), want a usage error containing %q", err, stderr.String(), tc.want)
			}
		})
	}
}

func TestPasswordFromFileOrEnvironment(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == envMySQLPassword {
			return "from-env"
		}
		return ""
	}
	cfg, err := mysqlConfig("agent@tcp(127.0.0.1:3306)/", file, env)
	if err != nil || cfg.Passwd != "from-file" {
		t.Errorf("with a file: %v %q, want from-file", err, cfg.Passwd)
	}
	cfg, err = mysqlConfig("agent@tcp(127.0.0.1:3306)/", "", env)
	if err != nil || cfg.Passwd != "from-env" {
		t.Errorf("from the environment: %v %q, want from-env", err, cfg.Passwd)
	}
}
