package receivertest_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	sdk "cloud.google.com/go/pubsub/v2"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/hookrun/hookrun/functions/receiver"
	"github.com/hookrun/hookrun/internal/pubsub"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/testenv"
)

// The Pub/Sub hand-off against the official emulator: the message arrives
// with the raw body and the attributes, and a push subscription to POST
// /process runs the handler.
func TestPubSubHandoffEmulator(t *testing.T) {
	testenv.PubSubHost(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	project := testenv.ProjectID(t)
	const topic = "webhooks"

	admin, err := pubsub.NewAdmin(ctx, project)
	if err != nil {
		t.Fatalf("NewAdmin: %v", err)
	}
	defer admin.Close()
	if err := admin.EnsureTopic(ctx, topic); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	// A pull subscription, which only this test needs.
	client, err := sdk.NewClient(ctx, project)
	if err != nil {
		t.Fatalf("pubsub.NewClient: %v", err)
	}
	defer client.Close()
	pullSub := "projects/" + project + "/subscriptions/webhooks-pull"
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pb.Subscription{Name: pullSub, Topic: "projects/" + project + "/topics/" + topic}); err != nil {
		t.Fatalf("create pull subscription: %v", err)
	}
	// A push subscription to a consumer's POST /process.
	handled := make(chan receiver.Webhook, 1)
	consumer, err := receiver.New(receiver.Config{SharedSecretHeader: "X-Unused", SharedSecret: "unused", ProcessAuth: receiver.ProcessNone},
		receiver.Deps{Handle: func(_ context.Context, wh receiver.Webhook) error { handled <- wh; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(consumer)
	defer srv.Close()
	err = admin.EnsurePushSubscription(ctx, pubsub.PushSubscription{ID: "webhooks-process", Topic: topic, Endpoint: srv.URL + receiver.ProcessPath})
	if err != nil {
		t.Fatalf("EnsurePushSubscription: %v", err)
	}

	secret := signature.NewSecret()
	rc, err := receiver.Open(ctx, receiver.Config{Secret: secret, HandoffTopic: "projects/" + project + "/topics/" + topic})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	for range 2 { // the second is a duplicate: acknowledged, not published
		if w := post(t, rc, secret, "msg_1", testBody); w.Code != http.StatusAccepted {
			t.Fatalf("status = %d, want 202 (body %s)", w.Code, w.Body)
		}
	}

	wantAttrs := map[string]string{receiver.AttrWebhookID: "msg_1", receiver.AttrSender: receiver.SenderStandardWebhooks, receiver.AttrEventType: "user.created", receiver.AttrContentType: "application/json"}
	rctx, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	var (
		mu  sync.Mutex
		got []*sdk.Message
	)
	err = client.Subscriber(pullSub).Receive(rctx, func(_ context.Context, m *sdk.Message) {
		m.Ack()
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		stop()
	})
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 {
		t.Fatal("no message within 30 s")
	}
	if string(got[0].Data) != testBody {
		t.Errorf("data = %q, want the raw body %q", got[0].Data, testBody)
	}
	if !maps.Equal(got[0].Attributes, wantAttrs) {
		t.Errorf("attributes = %v, want %v", got[0].Attributes, wantAttrs)
	}

	select {
	case wh := <-handled:
		if wh.ID != "msg_1" || wh.Type != "user.created" || string(wh.Body) != testBody {
			t.Errorf("POST /process handled %+v, want msg_1 with its body", wh)
		}
	case <-ctx.Done():
		t.Fatal("the push subscription never reached POST /process")
	}
}
