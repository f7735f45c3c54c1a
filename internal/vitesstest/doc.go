// Package vitesstest is a test harness for the Vitess source: a Vitess
// topology written with Vitess's own topology library (vitess.io/vitess/go/vt/topo
// and its etcd2 implementation, the code vtctld uses) into a real etcd, and
// tablets that are real gRPC servers answering Vitess's queryservice
// StreamHealth with scripted health beside a counted test backend.
package vitesstest
