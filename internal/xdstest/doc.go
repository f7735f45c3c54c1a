// Package xdstest is the harness of shardmesh's end-to-end tests: real gRPC
// servers standing in for tablets, and real grpc-go xDS clients (each with
// its own bootstrap: node locality, tenant) that count which tablet served
// every call.
package xdstest
