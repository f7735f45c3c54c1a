// Package etcdcluster runs a real etcd cluster of N members for tests, each
// member a separate process (cmd etcdmember, the etcd server of go.mod's
// version) listening on 127.0.0.1 ports, so that tests can kill -9 the
// leader or any member and restart it on the same data and ports.
package etcdcluster
