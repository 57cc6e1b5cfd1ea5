package ingest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi/httpapitest"
	"github.com/hookrun/hookrun/internal/oidc/oidctest"
)

// FuzzCreateProducerKey feeds POST /v1/producer-keys any body, with the
// admin token. The answer is 201, 400 or 413; a key is stored only with a
// 201, and then under the domain's rules: its name valid text, its
// tenants absent or 1 to 100 valid, distinct tenant IDs.
func FuzzCreateProducerKey(f *testing.F) {
	for _, s := range []string{
		`{"name":"billing","tenants":["acme","globex"]}`, `{"tenants":[]}`, `{"tenants":null}`, `{"tenants":["acme","acme"]}`,
		`{"tenants":["Acme"]}`, `{"tenants":"acme"}`, `{"name":"a\u0000b"}`, `{"name":"` + strings.Repeat("é", 101) + `"}`,
		`{"scopes":["send"]}`, `{}`, `[]`, `null`, ``, `{"name":"x"}{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := newFuzzEnv(t)
		w := e.send(http.MethodPost, "/v1/producer-keys", adminToken, "application/json", body)
		httpapitest.CheckAnswer(t, w, http.StatusCreated, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
		ks, _, err := e.store.ListProducerKeys(context.Background(), 10, "")
		if err != nil {
			t.Fatal(err)
		}
		if w.Code != http.StatusCreated {
			if len(ks) != 0 {
				t.Fatalf("answered %d but stored %d producer keys", w.Code, len(ks))
			}
			return
		}
		if len(ks) != 1 {
			t.Fatalf("201 but %d producer keys stored", len(ks))
		}
		checkText(t, "producer key name", ks[0].Name)
		if err := hookrun.ValidateProducerTenants("tenants", ks[0].Tenants); err != nil {
			t.Fatalf("stored producer key tenants %q: %v", ks[0].Tenants, err)
		}
		created := decode[producerKeyJSON](t, w)
		if !hookrun.LooksLikeProducerKey(created.ProducerKey) || hookrun.HashAPIKey(created.ProducerKey) != ks[0].Hash {
			t.Fatalf("201 without the key that was stored: %s", w.Body)
		}
	})
}

// FuzzSendCredential sends an event to POST /v1/tenants/acme/events with
// any Authorization header, on a service that accepts producer keys and
// ID tokens. Only the credentials made for the test send (202); anything
// else is 401 or 403, never a 5xx, and publishes nothing.
func FuzzSendCredential(f *testing.F) {
	iss, err := oidctest.NewIssuer()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(iss.Close)
	token := iss.Token("all@saas.iam.gserviceaccount.com", "https://ingest.example")
	// One verifier for every input: it fetches the key once, as a
	// service does.
	v := idTokenVerifier(f, iss)
	head, payload, _ := strings.Cut(token, ".")
	for _, s := range []string{
		"Bearer " + token, "bearer " + token, "Bearer " + head + "." + payload + ".", "Bearer " + head + ".." + payload,
		"Bearer " + strings.Replace(token, payload, payload[:len(payload)-2], 1), "Bearer a.b.c", "Bearer ..",
		"Bearer eyJhbGciOiJub25lIn0.eyJlbWFpbCI6ImFsbEBzYWFzLmlhbS5nc2VydmljZWFjY291bnQuY29tIn0.",
		"Bearer hkrp_" + strings.Repeat("A", 43), "Bearer hkr_" + strings.Repeat("A", 43), "Bearer " + adminToken,
		"Basic YTpi", "Bearer", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, authorization string) {
		e := idTokenEnvWith(t, v)
		e.createTenant(t, "acme")
		w := doRaw(e, http.MethodPost, "/v1/tenants/acme/events", authorization, "application/json", strings.NewReader(`{"type":"a.b","data":{}}`))
		// The scheme is case-insensitive, and space around the token is
		// not part of it: those spellings are the credential too.
		scheme, rest, _ := strings.Cut(authorization, " ")
		if strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(rest) == token {
			httpapitest.CheckAnswer(t, w, http.StatusAccepted)
			return
		}
		httpapitest.CheckAnswer(t, w, http.StatusUnauthorized, http.StatusForbidden)
		if n := len(e.pub.published()); n != 0 {
			t.Fatalf("Authorization %q: answered %d but published %d messages", authorization, w.Code, n)
		}
	})
}
