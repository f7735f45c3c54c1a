package xdsserver

import (
	"bytes"
	"fmt"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// response is a DiscoveryResponse of about size bytes whose bytes all
// differ from fill's.
func response(size int, fill byte) *discoveryv3.DiscoveryResponse {
	r := &discoveryv3.DiscoveryResponse{VersionInfo: "v1", TypeUrl: "type.googleapis.com/envoy.config.cluster.v3.Cluster"}
	for size > 0 {
		n := min(size, 4096)
		r.Resources = append(r.Resources, &anypb.Any{TypeUrl: r.TypeUrl, Value: bytes.Repeat([]byte{fill}, n)})
		size -= n
	}
	return r
}

// The codec sends exactly what proto.Marshal gives, also when its
// (uncleared) buffer held a larger message before, and reads what it sent.
func TestCodecSendsTheMessageOnly(t *testing.T) {
	for _, size := range []int{100, 40 << 10, 3 << 20, 20 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			big := response(size+size/3, 0xAA) // same tier or the next one
			data, err := codec{}.Marshal(big)
			if err != nil {
				t.Fatal(err)
			}
			data.Free() // back to the pool, not cleared
			msg := response(size, 0x55)
			data, err = codec{}.Marshal(msg)
			if err != nil {
				t.Fatal(err)
			}
			defer data.Free()
			want, _ := proto.Marshal(msg)
			if got := data.Materialize(); !bytes.Equal(got, want) {
				t.Fatalf("sent %d bytes that differ from proto.Marshal's %d", len(got), len(want))
			}
			var back discoveryv3.DiscoveryResponse
			if err := (codec{}).Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(&back, msg) {
				t.Fatal("unmarshalled message differs")
			}
		})
	}
}

func TestTieredPool(t *testing.T) {
	var p tieredPool
	for _, n := range []int{1, 255, 256, 257, 40 << 10, 1 << 24} {
		b := p.Get(n)
		if len(*b) != n || cap(*b) < n || cap(*b) >= 2*n && n > 1 {
			t.Errorf("Get(%d): len %d cap %d, want len %d and cap below %d", n, len(*b), cap(*b), n, 2*n)
		}
		p.Put(b)
	}
	if b := p.Get(1<<24 + 1); cap(*b) != 1<<24+1 {
		t.Errorf("Get above the largest tier: cap %d, want exactly the size", cap(*b))
	}
	foreign := make([]byte, 3000) // not a power of two: never handed out again
	p.Put(&foreign)
	for range 100 {
		if b := p.Get(2048); cap(*b) != 2048 {
			t.Fatalf("Get(2048) handed out a buffer of capacity %d", cap(*b))
		}
	}
}

// BenchmarkMarshalResponse marshals a 40 KiB DiscoveryResponse (the size of
// a stream's CDS or EDS response on the 19,200-tablet fleet) with gRPC's
// own proto codec and with ours, freeing each buffer as the transport does.
func BenchmarkMarshalResponse(b *testing.B) {
	msg := response(40<<10, 1)
	for _, c := range []encoding.CodecV2{encoding.GetCodecV2(protoenc.Name), codec{}} {
		name := "grpc"
		if _, ok := c.(codec); ok {
			name = "shardmesh"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				data, err := c.Marshal(msg)
				if err != nil {
					b.Fatal(err)
				}
				data.Free()
			}
		})
	}
}
