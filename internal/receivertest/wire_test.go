package receivertest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/functions/receiver"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/wire"
)

// The sample receiver keeps its own copies of the wire formats it shares
// with hookrun (a tenant owns the folder, so it imports nothing of
// hookrun's). These tests hold the copies to internal/wire, the contract.

// A challenge built the way ingest builds one (wire.Challenge in a webhook
// body, signed by the dispatcher's signer) is answered with what ingest
// accepts as the echo.
func TestReceiverAnswersWireChallenge(t *testing.T) {
	secret := signature.NewSecret()
	rc, err := receiver.New(receiver.Config{Secret: secret}, receiver.Deps{
		Handle: func(context.Context, receiver.Webhook) error {
			t.Error("a challenge reached the webhook handler")
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(wire.Challenge{Challenge: "c-123456"})
	body := string(hookrun.WebhookBody(hookrun.Event{ID: "chal_1", Type: wire.ChallengeEventType, Data: data, ReceivedAt: time.Now()}))
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header = signedHeaders(t, secret, "msg_chal_1", body)
	w := httptest.NewRecorder()
	rc.ServeHTTP(w, r)
	var got wire.Challenge
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &got) != nil || got.Challenge != "c-123456" {
		t.Errorf("answer = %d %s, want 200 echoing wire.Challenge c-123456", w.Code, w.Body)
	}
	if c, ok := wire.ParseChallenge([]byte(body)); !ok || c != "c-123456" {
		t.Errorf("wire.ParseChallenge(%s) = %q, %v", body, c, ok)
	}
}

// A Pub/Sub push as wire.PushEnvelope encodes it reaches the receiver's
// POST /process as the webhook it carries.
func TestReceiverDecodesWirePush(t *testing.T) {
	var got []receiver.Webhook
	rc, err := receiver.New(receiver.Config{Secret: signature.NewSecret(), ProcessAuth: receiver.ProcessNone}, receiver.Deps{
		Handle: func(_ context.Context, wh receiver.Webhook) error { got = append(got, wh); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	push, err := json.Marshal(wire.PushEnvelope{
		Subscription: "projects/p/subscriptions/receiver-process",
		Message: wire.Message{
			Data:        []byte(testBody),
			MessageID:   "42",
			PublishTime: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
			Attributes:  map[string]string{receiver.AttrWebhookID: "msg_1", receiver.AttrEventType: "user.created", receiver.AttrContentType: "application/json"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, receiver.ProcessPath, strings.NewReader(string(push)))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	rc.ServeHTTP(w, r)
	if w.Code != http.StatusNoContent {
		t.Fatalf("POST /process = %d %s, want 204", w.Code, w.Body)
	}
	if len(got) != 1 || got[0].ID != "msg_1" || got[0].Type != "user.created" || string(got[0].Body) != testBody {
		t.Errorf("handled %+v, want the pushed webhook msg_1", got)
	}
}
