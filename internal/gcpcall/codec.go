package gcpcall

import (
	"fmt"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
)

// BufferPool is where the clients' gRPC connections take the buffers
// they encode and read messages in: a pool per power of two from 256 B
// to 4 MiB. gRPC's default pool has none between 32 KiB and 1 MiB, so a
// Pub/Sub publish of a hundred 1 KiB events, or a Firestore commit of a
// few hundred records, held a 1 MiB buffer each while in flight, and
// the pool kept them after: the largest part of ingest's memory under
// batches (`scripts/bench -scenarios batch -profile DIR`).
var BufferPool = func() mem.BufferPool {
	var exps []uint8
	for e := uint8(8); e <= 22; e++ {
		exps = append(exps, e)
	}
	pool, err := mem.NewBinaryTieredBufferPool(exps...)
	if err != nil {
		panic(fmt.Sprintf("gcpcall: buffer pool: %v", err)) // the exponents are constants
	}
	return pool
}()

// codec is gRPC's protobuf codec, taking its buffers from BufferPool: a
// connection's buffer pool (experimental.WithBufferPool) serves only its
// transport, and gRPC's own codec encodes into the default pool.
type codec struct{}

func (codec) Name() string { return "proto" }

func (codec) Marshal(v any) (mem.BufferSlice, error) {
	m, err := message(v)
	if err != nil {
		return nil, err
	}
	size := proto.Size(m)
	// UseCachedSize reuses the Size just computed, as gRPC's codec does.
	opts := proto.MarshalOptions{UseCachedSize: true}
	if mem.IsBelowBufferPoolingThreshold(size) {
		buf, err := opts.Marshal(m)
		if err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(buf)}, nil
	}
	buf := BufferPool.Get(size)
	if _, err := opts.MarshalAppend((*buf)[:0], m); err != nil {
		BufferPool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, BufferPool)}, nil
}

func (codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, err := message(v)
	if err != nil {
		return err
	}
	buf := data.MaterializeToBuffer(BufferPool)
	defer buf.Free()
	return proto.Unmarshal(buf.ReadOnlyData(), m)
}

func message(v any) (proto.Message, error) {
	switch m := v.(type) {
	case proto.Message:
		return m, nil
	case protoadapt.MessageV1:
		return protoadapt.MessageV2Of(m), nil
	default:
		return nil, fmt.Errorf("proto codec: message is %T, want a proto.Message", v)
	}
}
