package hookrun

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestURLPolicy(t *testing.T) {
	tests := []struct {
		url       string
		allowHTTP bool
		wantErr   string // substring; "" means valid
	}{
		{"https://example.com/hooks", false, ""},
		{"http://127.0.0.1:8082/", true, ""},
		{"http://example.com/hooks", false, "must use https"},
		{"ftp://example.com/", true, "not allowed"},
		{"example.com/hooks", true, "absolute"},
		{"/hooks", true, "absolute"},
		{"", true, "required"},
		{"https://user:pass@example.com/", false, "credentials"},
		{"https://example.com/#frag", false, "fragment"},
		{"https://", false, "absolute"},
		{"https://example.com/" + strings.Repeat("a", 2048), false, "2048"},
		{"https://example.com:443/", false, ""},
		{"https://example.com:1/", false, ""},
		{"https://example.com:65535/", false, ""},
		{"https://[::1]:8443/", false, ""},
		{"https://example.com:99999/", false, "port 99999"},
		{"https://example.com:65536/", false, "port 65536"},
		{"https://example.com:0/", false, "port 0"},
		{"https://[::1]:0/", false, "port 0"},
		{"https://example.com:http/", false, "absolute"},
	}
	for _, tt := range tests {
		err := URLPolicy{AllowHTTP: tt.allowHTTP}.Validate(tt.url)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("Validate(%q) = %v, want ok", tt.url, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("Validate(%q) = %v, want error containing %q", tt.url, err, tt.wantErr)
		case err != nil && !strings.HasPrefix(ErrorMessage(err), "url:"):
			t.Errorf("Validate(%q) message %q does not name the field", tt.url, ErrorMessage(err))
		}
	}
}

func TestNewEndpoint(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	e, err := NewEndpoint("acme", EndpointInput{URL: "https://example.com/h", EventTypes: []string{"user.*"}, Description: " crm "}, URLPolicy{}, now)
	if err != nil {
		t.Fatalf("NewEndpoint: %v", err)
	}
	if !strings.HasPrefix(e.ID, "ep_") || e.Status != EndpointActive || e.Description != "crm" {
		t.Errorf("NewEndpoint = %+v, want ep_ id, active, trimmed description", e)
	}
	if !e.Matches("user.created") || e.Matches("invoice.paid") {
		t.Errorf("endpoint filter does not follow its event types")
	}
	e.Status = EndpointDisabled
	if e.Matches("user.created") {
		t.Errorf("a disabled endpoint matched")
	}
	if _, err := NewEndpoint("acme", EndpointInput{URL: "https://example.com/h"}, URLPolicy{}, now); err == nil {
		t.Errorf("endpoint without event types accepted")
	}
}

func TestNewTenantAndIDs(t *testing.T) {
	if _, err := NewTenant("acme", "Acme Inc.", time.Now()); err != nil {
		t.Errorf("NewTenant: %v", err)
	}
	for _, id := range []string{"", "a", "Acme", "acme-", "1acme", "acme_corp", "acme/x"} {
		if _, err := NewTenant(id, "x", time.Now()); err == nil {
			t.Errorf("NewTenant(%q) accepted", id)
		}
	}
	if _, err := NewTenant("acme", "  ", time.Now()); err == nil {
		t.Errorf("blank name accepted")
	}
	for _, id := range []string{"evt_1", "order-42:v2", "A.b_c"} {
		if err := ValidateEventID(id); err != nil {
			t.Errorf("ValidateEventID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", "a/b", "__x__", "-a", strings.Repeat("a", 129), "a b"} {
		if err := ValidateEventID(id); err == nil {
			t.Errorf("ValidateEventID(%q) accepted", id)
		}
	}
}

func TestAPIKeys(t *testing.T) {
	k1, h1 := NewAPIKey()
	k2, _ := NewAPIKey()
	if k1 == k2 {
		t.Fatal("two keys are equal")
	}
	if !LooksLikeAPIKey(k1) || LooksLikeAPIKey("admin-token") {
		t.Errorf("LooksLikeAPIKey misclassifies")
	}
	if HashAPIKey(k1) != h1 || strings.Contains(h1, k1) {
		t.Errorf("hash is not a stable one-way function of the key")
	}
}

func TestWebhookIDAndBody(t *testing.T) {
	a := WebhookID("acme", "evt_1", "ep_a")
	if a != WebhookID("acme", "evt_1", "ep_a") {
		t.Error("webhook id is not stable")
	}
	if a == WebhookID("acme", "evt_1", "ep_b") || a == WebhookID("acme", "evt_2", "ep_a") {
		t.Error("webhook id does not depend on event and endpoint")
	}
	e := Event{ID: "evt_1", Type: "user.created", Data: []byte(`{"n":1}`), ReceivedAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}
	got := string(WebhookBody(e))
	want := `{"id":"evt_1","type":"user.created","timestamp":"2026-01-02T03:04:05.000006Z","data":{"n":1}}`
	if got != want {
		t.Errorf("WebhookBody = %s, want %s", got, want)
	}
}

func TestEndpointOwes(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	// created at 0, pending until verified at 10, disabled at 20,
	// re-enabled at 30, pending again (URL changed) at 40, disabled at 50.
	ep := Endpoint{CreatedAt: at(0), Status: EndpointPending}
	steps := []struct {
		at     int
		status EndpointStatus
	}{{10, EndpointActive}, {20, EndpointDisabled}, {30, EndpointActive}, {40, EndpointPending}, {50, EndpointDisabled}}
	for _, s := range steps {
		ep.SetStatus(s.status, at(s.at))
	}
	if !ep.ActiveSince.Equal(at(30)) || !ep.InactiveSince.Equal(at(40)) {
		t.Fatalf("after the history: active since %v, inactive since %v; want 30 and 40 minutes in", ep.ActiveSince, ep.InactiveSince)
	}
	for _, tt := range []struct {
		acceptedAt int
		want       bool
	}{{5, false}, {15, false}, {29, false}, {30, true}, {39, true}, {40, false}, {45, false}, {55, false}} {
		if got := ep.Owes(at(tt.acceptedAt)); got != tt.want {
			t.Errorf("Owes(event accepted at minute %d) = %v, want %v", tt.acceptedAt, got, tt.want)
		}
	}
	ep.SetStatus(EndpointActive, at(60))
	if !ep.Owes(at(5)) || !ep.InactiveSince.IsZero() {
		t.Errorf("an active endpoint owes every event it matches: Owes = %v, InactiveSince %v", ep.Owes(at(5)), ep.InactiveSince)
	}
	// Stored before the times were kept: active from its creation on.
	old := Endpoint{CreatedAt: at(0), Status: EndpointActive}
	old.SetStatus(EndpointDisabled, at(20))
	if !old.Owes(at(10)) || old.Owes(at(25)) {
		t.Errorf("endpoint without ActiveSince: Owes(10) = %v, Owes(25) = %v; want true, false", old.Owes(at(10)), old.Owes(at(25)))
	}
}

// An endpoint at every limit (URL, 50 patterns, description, header names)
// is a small Firestore document: far under the 1 MiB a document holds.
func TestLargestEndpointFitsAFirestoreDocument(t *testing.T) {
	patterns := make([]string, 50)
	for i := range patterns {
		patterns[i] = fmt.Sprintf("p%03d.", i) + strings.Repeat("a", maxEventTypeLen-5)
	}
	e, err := NewEndpoint("acme", EndpointInput{
		URL:         "https://example.com/" + strings.Repeat("u", 2048-len("https://example.com/")),
		EventTypes:  patterns,
		Description: strings.Repeat("𝄞", 512),
	}, URLPolicy{}, time.Now())
	if err != nil {
		t.Fatalf("NewEndpoint: %v", err)
	}
	for i := range MaxHeaders {
		e.HeaderNames = append(e.HeaderNames, fmt.Sprintf("X-%03d-", i)+strings.Repeat("h", MaxHeaderNameLen-6))
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 64<<10 {
		t.Errorf("largest endpoint is %d bytes of JSON, want it far under Firestore's 1 MiB", len(b))
	}
}
