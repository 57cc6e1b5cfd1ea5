package firestore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/testenv"
)

// Between a status change's commit and its second stamp, a reader that
// sees the endpoint inactive must still owe the events accepted at that
// moment: the emulator may make the change visible later than its commit
// time, so an event accepted after the commit time may have been accepted
// while the endpoint still looked active. The fault test lost such events
// when the dispatcher read the first stamp.
func TestInactiveBeforeSecondStampOwesEventsAcceptedNow(t *testing.T) {
	changes := []struct {
		name    string
		disable func(context.Context, *Store, hookrun.Endpoint) error
	}{
		{"DisableEndpoint", func(ctx context.Context, s *Store, ep hookrun.Endpoint) error {
			return s.DisableEndpoint(ctx, ep.TenantID, ep.ID, "too many dead letters")
		}},
		{"UpdateEndpoint", func(ctx context.Context, s *Store, ep hookrun.Endpoint) error {
			ep.SetStatus(hookrun.EndpointDisabled, time.Now())
			return s.UpdateEndpoint(ctx, ep)
		}},
	}
	for _, tt := range changes {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			ctx := t.Context()
			ep, err := hookrun.NewEndpoint("acme", hookrun.EndpointInput{URL: "https://a.example/h", EventTypes: []string{"*"}}, hookrun.URLPolicy{}, now().Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			ep.SetStatus(hookrun.EndpointActive, now().Add(-time.Hour))
			if err := s.CreateEndpoint(ctx, ep); err != nil {
				t.Fatalf("CreateEndpoint: %v", err)
			}
			seen := false
			s.beforeRestamp = func() {
				got, err := s.GetEndpoint(ctx, "acme", ep.ID)
				if err != nil {
					t.Errorf("GetEndpoint: %v", err)
					return
				}
				seen = got.Status == hookrun.EndpointDisabled
				if accepted := time.Now(); !got.Owes(accepted) {
					t.Errorf("before the second stamp: inactive since %v, owes nothing accepted at %v", got.InactiveSince, accepted)
				}
			}
			if err := tt.disable(ctx, s, ep); err != nil {
				t.Fatal(err)
			}
			if !seen {
				t.Fatal("the hook did not see the endpoint disabled")
			}
			// After the second stamp, InactiveSince is the server's time:
			// events accepted from now on are not owed.
			got, _ := s.GetEndpoint(ctx, "acme", ep.ID)
			if later := time.Now().Add(time.Second); got.Owes(later) || got.InactiveSince.After(time.Now()) {
				t.Errorf("after the second stamp: inactive since %v, in the future", got.InactiveSince)
			}
		})
	}
}

// docCounter counts the documents Firestore's answers carry: what
// Firestore bills as reads (a lookup of a missing document counts too).
type docCounter struct{ n atomic.Int64 }

func (c *docCounter) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := streamer(ctx, desc, cc, method, opts...)
	return &countedDocs{ClientStream: cs, c: c}, err
}

type countedDocs struct {
	grpc.ClientStream
	c *docCounter
}

func (s *countedDocs) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		return err
	}
	switch r := m.(type) {
	case *firestorepb.BatchGetDocumentsResponse:
		s.c.n.Add(1) // found or missing, one read
	case *firestorepb.RunQueryResponse:
		if r.Document != nil {
			s.c.n.Add(1)
		}
	}
	return nil
}

// Reading an endpoint list's version reads one document, however many
// endpoints the tenant has: that is what makes an event's check of the
// dispatcher's cached list cost one read.
func TestEndpointsChangedReadsOneDocument(t *testing.T) {
	host := testenv.FirestoreHost(t)
	var docs docCounter
	conn, err := grpc.NewClient("passthrough:///"+host,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(emulatorAdmin{}),
		grpc.WithChainStreamInterceptor(docs.stream))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(t.Context(), Config{ProjectID: testenv.ProjectID(t)}, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	const endpoints = 12
	for i := range endpoints {
		ep, err := hookrun.NewEndpoint("acme", hookrun.EndpointInput{URL: fmt.Sprintf("https://%d.example/h", i), EventTypes: []string{"*"}}, hookrun.URLPolicy{}, now())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateEndpoint(ctx, ep); err != nil {
			t.Fatalf("CreateEndpoint: %v", err)
		}
	}
	for _, c := range []struct {
		name string
		read func() error
		want int64
	}{
		{"ListEndpoints", func() error { _, err := s.ListEndpoints(ctx, "acme"); return err }, endpoints},
		{"EndpointsChanged", func() error { _, err := s.EndpointsChanged(ctx, "acme"); return err }, 1},
		{"EndpointsChanged of a tenant without endpoints", func() error { _, err := s.EndpointsChanged(ctx, "globex"); return err }, 1},
	} {
		docs.n.Store(0)
		if err := c.read(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := docs.n.Load(); got != c.want {
			t.Errorf("%s read %d documents, want %d", c.name, got, c.want)
		}
	}
}
