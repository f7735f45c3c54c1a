package vitesstopo

import (
	"strings"
)

// kind is the type of a Vitess topology file, named by the last element of
// its key.
type kind int

const (
	kindIgnored kind = iota
	kindCellInfo
	kindCellsAlias
	kindKeyspace
	kindShard
	kindTablet
	kindKeyspaceRoutingRules
)

// vkey is a parsed key, relative to the root it was read from.
type vkey struct {
	kind     kind
	name     string // cell, cells alias, keyspace or tablet alias
	keyspace string // for kindShard
	shard    string // for kindShard
}

// parseKey recognises the files of the Vitess etcd2 layout that shardmesh
// reads; every other key (SrvKeyspace, ShardReplication, locks, elections,
// VSchema, ...) is kindIgnored.
//
//	cells/<cell>/CellInfo                    (global)
//	cells_aliases/<alias>/CellsAlias         (global)
//	keyspaces/<ks>/Keyspace                  (global)
//	keyspaces/<ks>/shards/<shard>/Shard      (global)
//	routing_rules/keyspace/Rules             (global)
//	tablets/<alias>/Tablet                   (cell)
func parseKey(rel string) vkey {
	p := strings.Split(strings.TrimPrefix(rel, "/"), "/")
	switch {
	case len(p) == 3 && p[0] == "cells" && p[2] == "CellInfo":
		return vkey{kind: kindCellInfo, name: p[1]}
	case len(p) == 3 && p[0] == "cells_aliases" && p[2] == "CellsAlias":
		return vkey{kind: kindCellsAlias, name: p[1]}
	case len(p) == 3 && p[0] == "keyspaces" && p[2] == "Keyspace":
		return vkey{kind: kindKeyspace, name: p[1]}
	case len(p) == 5 && p[0] == "keyspaces" && p[2] == "shards" && p[4] == "Shard":
		return vkey{kind: kindShard, keyspace: p[1], shard: p[3]}
	case len(p) == 3 && p[0] == "routing_rules" && p[1] == "keyspace" && p[2] == "Rules":
		return vkey{kind: kindKeyspaceRoutingRules}
	case len(p) == 3 && p[0] == "tablets" && p[2] == "Tablet":
		return vkey{kind: kindTablet, name: p[1]}
	}
	return vkey{kind: kindIgnored}
}
