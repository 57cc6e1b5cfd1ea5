package gcpcall

import (
	"bytes"
	"testing"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers gRPC's own codec, to compare with
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Messages small and large go through the codec and come back the same;
// what is not a protobuf message is refused.
func TestCodecRoundTrip(t *testing.T) {
	for _, n := range []int{10, 110 << 10, 2 << 20} {
		in := wrapperspb.Bytes(bytes.Repeat([]byte{'x'}, n))
		data, err := codec{}.Marshal(in)
		if err != nil {
			t.Fatalf("Marshal of %d bytes: %v", n, err)
		}
		out := &wrapperspb.BytesValue{}
		if err := (codec{}).Unmarshal(data, out); err != nil {
			t.Fatalf("Unmarshal of %d bytes: %v", n, err)
		}
		data.Free()
		if !bytes.Equal(out.Value, in.Value) {
			t.Errorf("%d bytes came back as %d", n, len(out.Value))
		}
	}
	if _, err := (codec{}).Marshal("not a message"); err == nil {
		t.Error("Marshal of a string = nil error")
	}
}

// BenchmarkCodecMarshal encodes a Pub/Sub publish of a hundred 1 KiB
// events, as ingest's batches send them, through this codec and through
// gRPC's own, and frees the buffer as gRPC does once it is sent. B/op is
// what each keeps from its pool: gRPC's holds a 1 MiB buffer per message
// of this size, this one a 128 KiB one.
func BenchmarkCodecMarshal(b *testing.B) {
	req := &pubsubpb.PublishRequest{Topic: "projects/p/topics/events"}
	for range 100 {
		req.Messages = append(req.Messages, &pubsubpb.PubsubMessage{
			Data:       bytes.Repeat([]byte{'x'}, 1024),
			Attributes: map[string]string{"tenant_id": "t1", "event_id": "evt_0123456789", "event_type": "user.created"},
		})
	}
	for _, c := range []struct {
		name  string
		codec encoding.CodecV2
	}{{"hookrun", codec{}}, {"grpc", encoding.GetCodecV2("proto")}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var held int
			for b.Loop() {
				data, err := c.codec.Marshal(req)
				if err != nil {
					b.Fatal(err)
				}
				held = 0
				for _, buf := range data {
					held += cap(buf.ReadOnlyData())
				}
				data.Free()
			}
			b.ReportMetric(float64(held), "buffer-bytes/op")
		})
	}
}
