package metrics_test

import (
	"maps"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/hookrun/hookrun/internal/metrics"
	"github.com/hookrun/hookrun/internal/metrics/metricstest"
)

// A connection with the Recorder's dial options counts the calls the
// service fails, not the answers a caller branches on.
func TestDialOptionsCountFailedCalls(t *testing.T) {
	rec, url := metricstest.Serve(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis)
	defer srv.Stop()

	conn, err := grpc.NewClient(lis.Addr().String(), append(rec.DialOptions(metrics.SecretManager),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx := t.Context()
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "unknown"}); err == nil {
		t.Fatal("Check of an unknown service succeeded, want NOT_FOUND")
	}
	srv.Stop()
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err == nil {
		t.Fatal("Check on a stopped server succeeded")
	}

	got := metricstest.Scrape(t, url).Hookrun()
	want := metricstest.Samples{`hookrun_dependency_errors_total{dependency="secretmanager"}`: 1}
	if !maps.Equal(got, want) {
		t.Errorf("scraped %v, want %v", got, want)
	}
}
