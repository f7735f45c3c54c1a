package xdsserver

import (
	"fmt"
	"math/bits"
	"sync"

	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// codec is gRPC's proto codec with its own pool for the buffers that
// responses are marshalled into. gRPC's default pool has tiers of 256 B, 4,
// 16 and 32 KiB and 1 MiB, and clears a buffer's whole capacity before
// handing it out: each 40 KiB response took and cleared 1 MiB, most of the
// cost of sending new streams their configuration during a reconnect
// storm. marshalPool has a tier at every power of two and does not clear:
// marshalling writes every byte that is sent.
type codec struct{}

var _ encoding.CodecV2 = codec{}

func (codec) Name() string { return protoenc.Name }

func (codec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("proto: cannot marshal %T, not a proto.Message", v)
	}
	size := proto.Size(m)
	opts := proto.MarshalOptions{UseCachedSize: true} // the size just computed
	if mem.IsBelowBufferPoolingThreshold(size) {
		b, err := opts.Marshal(m)
		if err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	buf := marshalPool.Get(size)
	if _, err := opts.MarshalAppend((*buf)[:0], m); err != nil {
		marshalPool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, marshalPool)}, nil
}

// Requests are small: gRPC's own codec reads them.
func (codec) Unmarshal(data mem.BufferSlice, v any) error { return grpcProto.Unmarshal(data, v) }

var grpcProto = encoding.GetCodecV2(protoenc.Name)

// marshalPool is codec's buffer pool.
var marshalPool = &tieredPool{}

// tieredPool is a mem.BufferPool of buffers whose capacity is a power of
// two, from 1 B to 16 MiB; larger buffers are not pooled. It does not clear
// the buffers it hands out.
type tieredPool struct {
	tiers [25]sync.Pool // tiers[e] holds *[]byte of capacity 1<<e
}

var _ mem.BufferPool = (*tieredPool)(nil)

func (p *tieredPool) Get(n int) *[]byte {
	e := bits.Len(uint(max(n, 1) - 1)) // the smallest e with 1<<e >= n
	if e >= len(p.tiers) {
		b := make([]byte, n)
		return &b
	}
	if b, ok := p.tiers[e].Get().(*[]byte); ok {
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, 1<<e)
	return &b
}

func (p *tieredPool) Put(b *[]byte) {
	c := cap(*b)
	e := bits.Len(uint(c)) - 1
	if c == 0 || c != 1<<e || e >= len(p.tiers) {
		return // not one of ours
	}
	p.tiers[e].Put(b)
}
