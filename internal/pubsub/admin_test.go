package pubsub

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/hookrun/hookrun/internal/wire"
)

func TestEnsureTopicIsIdempotent(t *testing.T) {
	ctx, a := newTestAdmin(t)
	for i := range 2 {
		if err := a.EnsureTopic(ctx, "events"); err != nil {
			t.Fatalf("EnsureTopic call %d: %v", i+1, err)
		}
	}
	if err := a.EnsureTopic(ctx, "ev"); err == nil {
		t.Error("EnsureTopic(\"ev\") = nil, want an invalid-ID error")
	}
}

// pushReceiver is an httptest server that acknowledges every push and
// hands the envelope to the test, decoded as the dispatcher decodes it.
func pushReceiver(t *testing.T) (*httptest.Server, <-chan wire.PushEnvelope) {
	t.Helper()
	got := make(chan wire.PushEnvelope, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env wire.PushEnvelope
		if err := json.NewDecoder(r.Body).Decode(&env); err != nil {
			t.Errorf("decode push body: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case got <- env:
		default:
			t.Errorf("push receiver full; dropped %s", env.Message.MessageID)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func waitPush(t *testing.T, ch <-chan wire.PushEnvelope) wire.PushEnvelope {
	t.Helper()
	select {
	case env := <-ch:
		return env
	case <-time.After(30 * time.Second):
		t.Fatal("no push within 30 s")
		return wire.PushEnvelope{}
	}
}

func TestPushSubscriptionDelivers(t *testing.T) {
	ctx, a := newTestAdmin(t)
	for _, topic := range []string{"events", "dead-letters"} {
		if err := a.EnsureTopic(ctx, topic); err != nil {
			t.Fatalf("EnsureTopic(%s): %v", topic, err)
		}
	}
	first, firstGot := pushReceiver(t)
	sub := PushSubscription{ID: "events-push", Topic: "events", Endpoint: first.URL + "/pubsub/push", DeadLetterTopic: "dead-letters"}
	if err := a.EnsurePushSubscription(ctx, sub); err != nil {
		t.Fatalf("EnsurePushSubscription: %v", err)
	}
	p := newTestPublisher(t, ctx, a, "events")
	wantAttrs := map[string]string{"tenant_id": "acme", "event_type": "user.created"}
	id, err := p.Publish(ctx, []byte(`{"n":1}`), wantAttrs)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	env := waitPush(t, firstGot)
	if got, want := env.Message.MessageID, id; got != want {
		t.Errorf("pushed messageId = %q, want %q", got, want)
	}
	if got, want := string(env.Message.Data), `{"n":1}`; got != want {
		t.Errorf("pushed data = %q, want %q", got, want)
	}
	if !maps.Equal(env.Message.Attributes, wantAttrs) {
		t.Errorf("pushed attributes = %v, want %v", env.Message.Attributes, wantAttrs)
	}
	if got, want := env.Subscription, subscriptionName(a.project, "events-push"); got != want {
		t.Errorf("pushed subscription = %q, want %q", got, want)
	}

	// A restarted stack listens elsewhere: ensuring again moves the push.
	second, secondGot := pushReceiver(t)
	sub.Endpoint = second.URL + "/pubsub/push"
	sub.AckDeadline = 30 * time.Second
	if err := a.EnsurePushSubscription(ctx, sub); err != nil {
		t.Fatalf("EnsurePushSubscription again: %v", err)
	}
	got, err := a.client.SubscriptionAdminClient.GetSubscription(ctx, &pb.GetSubscriptionRequest{Subscription: env.Subscription})
	if err != nil {
		t.Fatalf("GetSubscription: %v", err)
	}
	if got, want := got.GetPushConfig().GetPushEndpoint(), sub.Endpoint; got != want {
		t.Errorf("push endpoint after update = %q, want %q", got, want)
	}
	if got, want := got.GetAckDeadlineSeconds(), int32(30); got != want {
		t.Errorf("ack deadline after update = %d, want %d", got, want)
	}
	if got, want := got.GetDeadLetterPolicy().GetDeadLetterTopic(), topicName(a.project, "dead-letters"); got != want {
		t.Errorf("dead-letter topic = %q, want %q", got, want)
	}
	id2, err := p.Publish(ctx, []byte(`{"n":2}`), nil)
	if err != nil {
		t.Fatalf("Publish after update: %v", err)
	}
	if got := waitPush(t, secondGot).Message.MessageID; got != id2 {
		t.Errorf("second endpoint got messageId %q, want %q", got, id2)
	}
}

// A subscription deleted and ensured again is empty: what was published
// while it held its pushes (a pull subscription without a consumer) is
// not pushed once it pushes again.
func TestDeleteSubscriptionDiscardsItsMessages(t *testing.T) {
	ctx, a := newTestAdmin(t)
	if err := a.EnsureTopic(ctx, "events"); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	srv, got := pushReceiver(t)
	sub := PushSubscription{ID: "events-held", Topic: "events", Endpoint: srv.URL + "/pubsub/push"}
	held := sub
	held.Endpoint = ""
	if err := a.EnsurePushSubscription(ctx, held); err != nil {
		t.Fatalf("EnsurePushSubscription without endpoint: %v", err)
	}
	p := newTestPublisher(t, ctx, a, "events")
	if _, err := p.Publish(ctx, []byte(`{"n":1}`), nil); err != nil {
		t.Fatalf("Publish while held: %v", err)
	}
	for i := range 2 { // the second finds nothing to delete
		if err := a.DeleteSubscription(ctx, sub.ID); err != nil {
			t.Fatalf("DeleteSubscription call %d: %v", i+1, err)
		}
	}
	if err := a.EnsurePushSubscription(ctx, sub); err != nil {
		t.Fatalf("EnsurePushSubscription: %v", err)
	}
	id, err := p.Publish(ctx, []byte(`{"n":2}`), nil)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if env := waitPush(t, got); env.Message.MessageID != id {
		t.Errorf("first push carried %s (%s), want %s, published after the subscription was made again", env.Message.MessageID, env.Message.Data, id)
	}
	if err := a.DeleteSubscription(ctx, "e"); err == nil {
		t.Error(`DeleteSubscription("e") = nil, want an invalid-ID error`)
	}
}

func TestEnsurePushSubscriptionErrors(t *testing.T) {
	ctx, a := newTestAdmin(t)
	for _, topic := range []string{"events", "other-topic"} {
		if err := a.EnsureTopic(ctx, topic); err != nil {
			t.Fatalf("EnsureTopic(%s): %v", topic, err)
		}
	}
	base := PushSubscription{ID: "events-push", Topic: "events", Endpoint: "http://127.0.0.1:9/push"}
	if err := a.EnsurePushSubscription(ctx, base); err != nil {
		t.Fatalf("EnsurePushSubscription: %v", err)
	}
	tests := []struct {
		name string
		edit func(*PushSubscription)
	}{
		{"other topic", func(s *PushSubscription) { s.Topic = "other-topic" }},
		{"missing topic", func(s *PushSubscription) { s.ID, s.Topic = "orphan-push", "no-such-topic" }},
		{"invalid", func(s *PushSubscription) { s.Endpoint = "/pubsub/push" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.edit(&s)
			if err := a.EnsurePushSubscription(ctx, s); err == nil {
				t.Errorf("EnsurePushSubscription(%+v) = nil, want an error", s)
			}
		})
	}
}
