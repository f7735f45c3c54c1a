package main

import (
	"context"
	"net"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// floorPipe is the least a push of a change needs after etcd's watch
// fires: marshal one ClusterLoadAssignment, send it in a DiscoveryResponse
// on an open ADS stream over loopback gRPC, and have the client receive
// and decode it. No control plane is involved.
type floorPipe struct {
	out    chan *discoveryv3.DiscoveryResponse
	stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	stop   func()
}

type floorServer struct {
	discoveryv3.UnimplementedAggregatedDiscoveryServiceServer
	out chan *discoveryv3.DiscoveryResponse
}

func (s floorServer) StreamAggregatedResources(stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesServer) error {
	if _, err := stream.Recv(); err != nil { // the client's first request opens the stream
		return err
	}
	for {
		select {
		case r := <-s.out:
			if err := stream.Send(r); err != nil {
				return err
			}
		case <-stream.Context().Done():
			return nil
		}
	}
}

func newFloorPipe(ctx context.Context) (*floorPipe, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	out := make(chan *discoveryv3.DiscoveryResponse)
	srv := grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(srv, floorServer{out: out})
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		srv.Stop()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err == nil {
		err = stream.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.EndpointType})
	}
	stop := func() { cancel(); conn.Close(); srv.Stop() }
	if err != nil {
		stop()
		return nil, err
	}
	return &floorPipe{out: out, stream: stream, stop: stop}, nil
}

// deliver times marshalling one assignment of a shard's replica class (a
// tablet in each of the 9 zones), sending it and receiving it decoded.
func (p *floorPipe) deliver() (time.Duration, error) {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: "ks00/00-08/replica"}
	for i := range 9 {
		cla.Endpoints = append(cla.Endpoints, &endpointv3.LocalityLbEndpoints{
			Locality: &corev3.Locality{Region: regions[i/3], Zone: cellName(i)},
			LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Hostname: "z0-0000000001",
				Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
					Address: "127.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 1}}}},
			}}}},
		})
	}
	start := time.Now()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(cla)
	if err != nil {
		return 0, err
	}
	p.out <- &discoveryv3.DiscoveryResponse{TypeUrl: resourcev3.EndpointType,
		Resources: []*anypb.Any{{TypeUrl: resourcev3.EndpointType, Value: b}}}
	resp, err := p.stream.Recv()
	if err != nil {
		return 0, err
	}
	var got endpointv3.ClusterLoadAssignment
	if err := proto.Unmarshal(resp.GetResources()[0].GetValue(), &got); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
