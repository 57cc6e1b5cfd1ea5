package receiver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Bodies of the three kinds of POST the receiver tells apart, for seeds.
const (
	fuzzHookrunChallenge = `{"id":"chal_1","type":"webhook.verification","timestamp":"2026-11-23T10:00:00Z","data":{"challenge":"abc123"}}`
	fuzzSlackChallenge   = `{"token":"legacy","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
)

var payloadSeeds = []string{
	testBody, fuzzHookrunChallenge, fuzzSlackChallenge,
	`{"type":"webhook.verification","data":"abc"}`,
	`{"type":"webhook.verification","data":{"challenge":5}}`,
	`{"type":"webhook.verification","data":{"challenge":""}}`,
	`{"type":"url_verification"}`,
	`{"TYPE":"url_verification","Challenge":"c"}`,
	`{"type":"url_verification","challenge":"a","challenge":"b"}`,
	`{"type":"url_verification","challenge":"a","type":"user.created"}`,
	`{"type":5,"challenge":"c"}`,
	`{"type":"url_verification","challenge":"\ud800\u0000<script>"}`,
	"{\"type\":\"url_verification\",\"challenge\":\"\xff\"}",
	`[]`, `"url_verification"`, `null`, `{`, ``, `{"data":{"challenge":"x"}}{}`,
	`{"id":"evt_1","object":"event","type":"checkout.session.completed"}`,
	`{"type":"event_callback","event_id":"Ev1","event":{"type":"message"}}`,
	`{"id":5,"event_id":["x"],"type":"t"}`,
}

// member is one name/value pair of a JSON object, in document order.
type member struct {
	name  string
	value json.RawMessage
}

// members returns the members of raw when it is a JSON object, duplicates
// and all: the oracle the decoder's own struct matching is checked against.
func members(raw []byte) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		ms = append(ms, member{tok.(string), v})
	}
	return ms, true
}

// stringMember reports whether raw is an object with a member named name
// (in any case, as encoding/json matches struct fields) whose value is the
// string want.
func stringMember(raw []byte, name, want string) bool {
	ms, _ := members(raw)
	for _, m := range ms {
		var s string
		if strings.EqualFold(m.name, name) && json.Unmarshal(m.value, &s) == nil && s == want {
			return true
		}
	}
	return false
}

// onlyMember returns the value of raw's single member named name, exactly,
// when no other member's name matches it in any case.
func onlyMember(raw []byte, name string) (json.RawMessage, bool) {
	ms, _ := members(raw)
	var found json.RawMessage
	n := 0
	for _, m := range ms {
		if strings.EqualFold(m.name, name) {
			n++
			if m.name == name {
				found = m.value
			}
		}
	}
	return found, n == 1 && found != nil
}

// onlyString is onlyMember's value when it is a string.
func onlyString(raw []byte, name string) (string, bool) {
	v, ok := onlyMember(raw, name)
	var s string
	return s, ok && json.Unmarshal(v, &s) == nil
}

// FuzzParsePayload feeds the receiver's body parser, which decides what is
// an ownership challenge, any body a sender may POST.
func FuzzParsePayload(f *testing.F) {
	for _, s := range payloadSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p := parsePayload(body)
		if p.valid != json.Valid(body) {
			t.Fatalf("parsePayload(%q).valid = %v, want %v", body, p.valid, !p.valid)
		}
		if !p.valid {
			if p != (payload{}) {
				t.Fatalf("parsePayload(%q) = %+v from a body that is not JSON", body, p)
			}
			return
		}
		// Whatever parsePayload says comes from the body, under the names
		// the challenges use.
		for name, got := range map[string]string{"type": p.typ, "id": p.id, "event_id": p.eventID} {
			if got != "" && !stringMember(body, name, got) {
				t.Fatalf("parsePayload(%q) %s = %q, which is no %q of the body", body, name, got, name)
			}
		}
		if p.hookrunChallenge != "" {
			if p.typ != hookrunChallengeType || !someDataHolds(body, p.hookrunChallenge) {
				t.Fatalf("parsePayload(%q) = hookrun challenge %q of type %q", body, p.hookrunChallenge, p.typ)
			}
		}
		if p.slackChallenge != "" && (p.typ != slackChallengeType || !stringMember(body, "challenge", p.slackChallenge)) {
			t.Fatalf("parsePayload(%q) = Slack challenge %q of type %q", body, p.slackChallenge, p.typ)
		}
		if p.hookrunChallenge != "" && p.slackChallenge != "" {
			t.Fatalf("parsePayload(%q) = two challenges", body)
		}

		// And a challenge written plainly is found.
		typ, ok := onlyString(body, "type")
		if !ok {
			return
		}
		if p.typ != typ {
			t.Fatalf("parsePayload(%q).typ = %q, want %q", body, p.typ, typ)
		}
		switch typ {
		case hookrunChallengeType:
			data, ok := onlyMember(body, "data")
			if c, cok := onlyString(data, "challenge"); ok && cok && p.hookrunChallenge != c {
				t.Fatalf("parsePayload(%q).hookrunChallenge = %q, want %q", body, p.hookrunChallenge, c)
			}
		case slackChallengeType:
			if c, ok := onlyString(body, "challenge"); ok && p.slackChallenge != c {
				t.Fatalf("parsePayload(%q).slackChallenge = %q, want %q", body, p.slackChallenge, c)
			}
		}
	})
}

// someDataHolds reports whether any member of body named "data" (in any
// case) is an object holding the challenge c: with several, encoding/json
// keeps the last it could decode.
func someDataHolds(body []byte, c string) bool {
	ms, _ := members(body)
	for _, m := range ms {
		if strings.EqualFold(m.name, "data") && stringMember(m.value, "challenge", c) {
			return true
		}
	}
	return false
}

// fuzzSharedSecret authenticates the fuzzed POSTs: a sender either knows
// it or does not, with no signature to get right by chance.
const (
	fuzzSecretHeader = "X-Webhook-Token"
	fuzzSharedSecret = "tok-fuzz-0123456789"
)

// FuzzReceive feeds a POSTed webhook, authenticated or not, to the
// receiver. Only an authenticated ownership challenge is answered with its
// challenge; only an authenticated webhook is taken, byte for byte;
// nothing is a 5xx.
func FuzzReceive(f *testing.F) {
	for _, s := range payloadSeeds {
		f.Add("application/json", fuzzSharedSecret, []byte(s))
		f.Add("application/json", "", []byte(s))
	}
	f.Add("application/cloudevents+json; charset=utf-8", fuzzSharedSecret, []byte(fuzzHookrunChallenge))
	f.Add("text/plain", fuzzSharedSecret, []byte(fuzzSlackChallenge))
	f.Add("application/x-www-form-urlencoded", fuzzSharedSecret, []byte("a=1&b=2"))
	f.Add("application/json;;", fuzzSharedSecret+" ", []byte(fuzzSlackChallenge))
	f.Add("", fuzzSharedSecret, []byte{})

	f.Fuzz(func(t *testing.T, contentType, token string, body []byte) {
		h := &fakeHandoff{}
		rc := newReceiver(t, Config{SharedSecretHeader: fuzzSecretHeader, SharedSecret: fuzzSharedSecret}, Deps{Handoff: h})
		r := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		r.Header.Set(fuzzSecretHeader, token)
		w := serve(rc, r)

		authed := token == fuzzSharedSecret
		var p payload
		if isJSONType(contentType) {
			p = parsePayload(body)
		}
		taken := h.sent()
		if w.Code != http.StatusAccepted && len(taken) != 0 {
			t.Fatalf("answered %d but handed off %d webhooks", w.Code, len(taken))
		}
		switch w.Code {
		case http.StatusOK:
			var got map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || len(got) != 1 {
				t.Fatalf("challenge answer %q is not {\"challenge\": …}", w.Body)
			}
			c := got["challenge"]
			switch {
			case authed && c != "" && (c == p.slackChallenge || c == p.hookrunChallenge):
			default:
				t.Fatalf("answered challenge %q to %q (authenticated %v, parsed %+v)", c, body, authed, p)
			}
		case http.StatusAccepted:
			if !authed || p.hookrunChallenge != "" || p.slackChallenge != "" || (isJSONType(contentType) && !p.valid) {
				t.Fatalf("took %q (authenticated %v, parsed %+v)", body, authed, p)
			}
			if len(taken) != 1 || !bytes.Equal(taken[0].Body, body) || taken[0].ContentType != contentType {
				t.Fatalf("handed off %+v, want the body as received", taken)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
			checkErrorBody(t, w)
			if w.Code == http.StatusUnauthorized && authed {
				t.Fatalf("refused the shared secret: %s", w.Body)
			}
		default:
			t.Fatalf("answered %d %s", w.Code, w.Body)
		}
		if !authed && w.Code != http.StatusUnauthorized && w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("unauthenticated %q answered %d, want 401", body, w.Code)
		}
	})
}

// checkErrorBody checks that w is an error in Google's JSON shape.
func checkErrorBody(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	var e errorBody
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error.Code != w.Code || e.Error.Status == "" || e.Error.Message == "" {
		t.Fatalf("answer %d %q is not {\"error\":{\"code\",\"status\",\"message\"}}: %v", w.Code, w.Body, err)
	}
}

// FuzzMetaChallenge feeds Meta-style verification GETs with any query.
// Only hub.mode=subscribe with the configured token and a challenge is
// answered, with the challenge as sent; a refusal gives nothing of the
// challenge back.
func FuzzMetaChallenge(f *testing.F) {
	const verifyToken = "meta-verify-token"
	for _, q := range []string{
		"hub.mode=subscribe&hub.verify_token=meta-verify-token&hub.challenge=1158201444",
		"hub.mode=subscribe&hub.verify_token=meta-verify-token&hub.challenge=%3Cscript%3E",
		"hub.mode=subscribe&hub.verify_token=meta-verify-token&hub.challenge=",
		"hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444",
		"hub.mode=unsubscribe&hub.verify_token=meta-verify-token&hub.challenge=1",
		"hub.mode=subscribe&hub.mode=x&hub.verify_token=meta-verify-token&hub.challenge=a&hub.challenge=b",
		"hub.mode=subscribe;hub.verify_token=meta-verify-token&hub.challenge=1",
		"hub.mode=subscribe&hub.verify_token=meta%2dverify%2dtoken&hub.challenge=%zz",
		"hub.challenge=1", "", "&&=", "hub.mode",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		rc := newReceiver(t, Config{SharedSecretHeader: fuzzSecretHeader, SharedSecret: fuzzSharedSecret, VerifyToken: verifyToken}, Deps{})
		get := func(query string) *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodGet, "/webhooks", nil)
			r.URL.RawQuery = query
			return serve(rc, r)
		}
		w := get(query)
		q, _ := url.ParseQuery(query) // what the handler sees, parse errors and all
		challenge := q.Get("hub.challenge")
		ok := q.Get("hub.mode") == "subscribe" && q.Get("hub.verify_token") == verifyToken && challenge != ""
		if ok {
			if w.Code != http.StatusOK || w.Body.String() != challenge || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") ||
				w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("verification %q answered %d %q (%s), want the challenge %q as text", query, w.Code, w.Body, w.Header().Get("Content-Type"), challenge)
			}
			return
		}
		if w.Code != http.StatusBadRequest && w.Code != http.StatusForbidden {
			t.Fatalf("refused verification %q answered %d %q, want 400 or 403", query, w.Code, w.Body)
		}
		checkErrorBody(t, w)
		// The same request with another challenge gets the same refusal.
		if challenge != "" {
			q.Set("hub.challenge", "placeholder")
			if other := get(q.Encode()); other.Code != w.Code || other.Body.String() != w.Body.String() {
				t.Fatalf("refusal of %q depends on the challenge: %d %q, with another %d %q", query, w.Code, w.Body, other.Code, other.Body)
			}
		}
	})
}
