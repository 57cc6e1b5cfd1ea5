package pubsub

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
)

// BenchmarkPublish is ingest's publish under load: 32 callers at once,
// each waiting for its message's acknowledgement, 1 KiB each with an
// event's attributes, against the emulator. cpu-µs/op is this process's
// CPU per message; msgs/request how many messages a publish request
// carried (the client's batching, HOOKRUN_PUBLISH_DELAY):
//
//	.bin/hookrun-dev test -- go test -run '^$' -bench Publish ./internal/pubsub/
func BenchmarkPublish(b *testing.B) {
	ctx, a := newTestAdmin(b)
	if err := a.EnsureTopic(ctx, "events"); err != nil {
		b.Fatal(err)
	}
	var requests atomic.Int64
	count := option.WithGRPCDialOption(grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := req.(*pb.PublishRequest); ok {
			requests.Add(1)
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}))
	p, err := NewPublisher(ctx, Config{ProjectID: a.project, Topic: "events"}, count)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	data := make([]byte, 1024)
	attrs := map[string]string{"hookrun_tenant_id": "acme", "hookrun_event_id": "evt_01JX", "hookrun_event_type": "user.created", "hookrun_received_at": time.Now().Format(time.RFC3339Nano), "hookrun_source": "api"}
	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.SetParallelism(16) // 32 callers on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Publish(ctx, data, attrs); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	var after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(b.N)/float64(requests.Load()), "msgs/request")
}
