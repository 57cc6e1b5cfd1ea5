package ingest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/sender"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/wire"
)

func TestSenderChallenger(t *testing.T) {
	secret := signature.NewSecret()
	key, _ := signature.ParseSecret(secret)
	answer := func(mode string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if err := signature.Verify([][]byte{key}, r.Header, body, time.Now(), time.Minute); err != nil || r.Header.Get("Authorization") != "Bearer tok" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			challenge, ok := wire.ParseChallenge(body)
			if !ok {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			switch mode {
			case "json":
				_ = json.NewEncoder(w).Encode(wire.Challenge{Challenge: challenge})
			case "plain":
				_, _ = io.WriteString(w, challenge+"\n")
			case "ignore":
				_, _ = io.WriteString(w, "ok")
			case "404":
				http.NotFound(w, r)
			}
		}
	}
	c := senderChallenger{sender.New(true, "test")}
	sec := hookrun.EndpointSecret{SigningSecret: secret, Auth: hookrun.EndpointAuth{Kind: hookrun.AuthBearer, Token: "tok"}}
	for _, tt := range []struct {
		mode, wantErr string
	}{{"json", ""}, {"plain", ""}, {"ignore", "without echoing"}, {"404", "404"}} {
		t.Run(tt.mode, func(t *testing.T) {
			srv := httptest.NewServer(answer(tt.mode))
			defer srv.Close()
			err := c.Challenge(t.Context(), hookrun.Endpoint{URL: srv.URL}, sec)
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Challenge = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
	// Production refuses to challenge private addresses (SSRF guard).
	srv := httptest.NewServer(answer("json"))
	defer srv.Close()
	if err := (senderChallenger{sender.New(false, "test")}).Challenge(t.Context(), hookrun.Endpoint{URL: srv.URL}, sec); err == nil || !strings.Contains(err.Error(), "not publicly routable") {
		t.Errorf("challenge of a loopback URL in production = %v, want refused", err)
	}
	// A closed port reads as a category, not as the dial's outcome, so
	// the verification_error cannot map ports behind a hostname.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/hook"
	l.Close()
	const want = "challenge not answered: could not connect to the endpoint"
	if err := c.Challenge(t.Context(), hookrun.Endpoint{URL: closed}, sec); err == nil || err.Error() != want {
		t.Errorf("challenge of a closed port = %v, want %q", err, want)
	}
}
