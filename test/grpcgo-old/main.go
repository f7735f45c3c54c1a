// Command grpcgo-old is a grpc-go xDS client of xds:///<keyspace> built
// against the oldest grpc-go release shardmesh supports (go.mod), from
// before gRFC A63. It is its own module so that the old release does not
// downgrade the main module's grpc-go. test/e2e/parity_test.go drives it
// like the grpc-js and C-core clients: each stdin line is a command
// {"n":20,"headers":{"x-shard":"-80"}} making n sequential UnaryCalls (2 s
// deadline each), answered by one stdout line
// {"peers":[{"peer":"127.0.0.1:port","server_id":"..."}],"errors":[{"code":14,"details":"..."}]}.
// The xDS bootstrap comes from GRPC_XDS_BOOTSTRAP_CONFIG.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	_ "google.golang.org/grpc/xds" // registers the xds:/// resolver
)

type command struct {
	N       int               `json:"n"`
	Headers map[string]string `json:"headers"`
}

type answer struct {
	Peers  []served `json:"peers"`
	Errors []failed `json:"errors"`
}

type served struct {
	Peer     string `json:"peer"`
	ServerID string `json:"server_id"`
}

type failed struct {
	Code    uint32 `json:"code"`
	Details string `json:"details"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: grpcgo-old <keyspace>")
		os.Exit(2)
	}
	conn, err := grpc.Dial("xds:///"+os.Args[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer conn.Close()
	stub := testgrpc.NewTestServiceClient(conn)
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var cmd command
		if err := json.Unmarshal(in.Bytes(), &cmd); err != nil {
			fmt.Fprintf(os.Stderr, "command %q: %v\n", in.Text(), err)
			os.Exit(1)
		}
		a := answer{Peers: []served{}, Errors: []failed{}}
		for i := 0; i < cmd.N; i++ {
			a.add(call(stub, cmd.Headers))
		}
		if err := out.Encode(a); err != nil {
			os.Exit(1)
		}
	}
}

func (a *answer) add(s served, err error) {
	if err != nil {
		st := status.Convert(err)
		a.Errors = append(a.Errors, failed{Code: uint32(st.Code()), Details: st.Message()})
		return
	}
	a.Peers = append(a.Peers, s)
}

func call(stub testgrpc.TestServiceClient, headers map[string]string) (served, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for k, v := range headers {
		ctx = metadata.AppendToOutgoingContext(ctx, k, v)
	}
	var p peer.Peer
	resp, err := stub.UnaryCall(ctx, &testgrpc.SimpleRequest{}, grpc.Peer(&p))
	if err != nil {
		return served{}, err
	}
	return served{Peer: p.Addr.String(), ServerID: resp.GetServerId()}, nil
}
