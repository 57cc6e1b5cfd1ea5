package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// fakeVerifier accepts one token.
type fakeVerifier struct{ token string }

var _ PushVerifier = fakeVerifier{}

func (f fakeVerifier) Verify(_ context.Context, authorization string) error {
	if authorization != "Bearer "+f.token {
		return errors.New("invalid token")
	}
	return nil
}

// pushRequest is a Pub/Sub push of a message holding body.
func pushRequest(t testing.TB, messageID, body string, attrs map[string]string) *http.Request {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"message":      map[string]any{"data": []byte(body), "attributes": attrs, "messageId": messageID, "publishTime": "2026-11-23T10:00:00Z"},
		"subscription": "projects/p/subscriptions/receiver-process",
	})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, ProcessPath, strings.NewReader(string(b)))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func TestProcess(t *testing.T) {
	secret, _ := newSecret(t)
	attrs := map[string]string{AttrWebhookID: "msg_1", AttrEventType: "user.created", AttrContentType: "application/json"}
	authorized := func(r *http.Request) *http.Request { r.Header.Set("Authorization", "Bearer good"); return r }

	tests := []struct {
		name       string
		auth       string
		req        *http.Request
		handleErr  error
		want       int
		wantHandle bool
	}{
		{"off", ProcessOff, pushRequest(t, "1", testBody, attrs), nil, http.StatusNotFound, false},
		{"unauthenticated allowed", ProcessNone, pushRequest(t, "1", testBody, attrs), nil, http.StatusNoContent, true},
		{"OIDC token", ProcessOIDC, authorized(pushRequest(t, "1", testBody, attrs)), nil, http.StatusNoContent, true},
		{"no OIDC token", ProcessOIDC, pushRequest(t, "1", testBody, attrs), nil, http.StatusUnauthorized, false},
		{"handler fails: retried", ProcessNone, pushRequest(t, "1", testBody, attrs), errors.New("db down"), http.StatusServiceUnavailable, true},
		{"not an envelope", ProcessNone, httptest.NewRequest(http.MethodPost, ProcessPath, strings.NewReader("nope")), nil, http.StatusBadRequest, false},
		{"GET", ProcessNone, httptest.NewRequest(http.MethodGet, ProcessPath, nil), nil, http.StatusMethodNotAllowed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, Config{Secret: secret, ProcessAuth: tt.auth, ProcessServiceAccount: "push@p.iam.gserviceaccount.com", ProcessAudience: "https://r.example/process"},
				Deps{PushVerifier: fakeVerifier{token: "good"}})
			var got []Webhook
			rc.handle = func(_ context.Context, wh Webhook) error { got = append(got, wh); return tt.handleErr }
			w := serve(rc, tt.req)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d (body %s)", w.Code, tt.want, w.Body)
			}
			if !tt.wantHandle {
				if len(got) != 0 {
					t.Errorf("handled %d webhooks, want none", len(got))
				}
				return
			}
			want := Webhook{ID: "msg_1", Type: "user.created", ContentType: "application/json", Body: []byte(testBody)}
			if len(got) != 1 || got[0].ID != want.ID || got[0].Type != want.Type || got[0].ContentType != want.ContentType || string(got[0].Body) != testBody {
				t.Errorf("handled %+v, want %+v", got, want)
			}
		})
	}
}

func TestProcessDuplicates(t *testing.T) {
	secret, _ := newSecret(t)
	rc := newReceiver(t, Config{Secret: secret, ProcessAuth: ProcessNone}, Deps{})
	var handled []string
	rc.handle = func(_ context.Context, wh Webhook) error { handled = append(handled, wh.Sender+" "+wh.ID); return nil }

	// The same webhook pushed twice (two hand-offs from two instances, or
	// a redelivery), a message without webhook_id redelivered, and the
	// same ID from two other senders, each pushed twice.
	github := map[string]string{AttrWebhookID: "msg_1", AttrSender: SenderGitHub}
	stripe := map[string]string{AttrWebhookID: "msg_1", AttrSender: SenderStripe}
	pushes := []*http.Request{
		pushRequest(t, "10", testBody, map[string]string{AttrWebhookID: "msg_1"}),
		pushRequest(t, "11", testBody, map[string]string{AttrWebhookID: "msg_1", AttrSender: SenderStandardWebhooks}),
		pushRequest(t, "12", "raw", nil),
		pushRequest(t, "12", "raw", nil),
		pushRequest(t, "13", "{}", github),
		pushRequest(t, "14", "{}", github),
		pushRequest(t, "15", "{}", stripe),
		pushRequest(t, "16", "{}", stripe),
	}
	for i, r := range pushes {
		if w := serve(rc, r); w.Code != http.StatusNoContent {
			t.Fatalf("push #%d: %d, want 204", i+1, w.Code)
		}
	}
	if want := []string{" msg_1", " ", "github msg_1", "stripe msg_1"}; !slices.Equal(handled, want) {
		t.Errorf("handled %q, want %q", handled, want)
	}
}
