package verify_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/hookrun/hookrun/functions/receiver/verify"
)

// handleWebhook is a tenant's own handler: it verifies before it trusts
// anything in the request, and reads the body once, raw, to verify exactly
// the bytes that were signed.
func handleWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if err := verify.Verify(os.Getenv("WEBHOOK_SECRET"), r.Header, body); err != nil {
		if errors.Is(err, verify.ErrInvalidSecret) {
			// WEBHOOK_SECRET is wrong: our fault, so the sender retries.
			slog.Error("webhook secret is misconfigured", "error", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		// The reason is safe to log; the sender learns nothing.
		slog.Warn("webhook refused", "reason", err)
		http.Error(w, "unauthenticated", http.StatusUnauthorized)
		return
	}
	// Verified: parse body, drop duplicates by r.Header.Get(verify.HeaderID),
	// hand off slow work, and answer 2xx quickly.
	w.WriteHeader(http.StatusNoContent)
}

func Example_verify() {
	os.Setenv("WEBHOOK_SECRET", exampleSecret) // on Cloud Run: --set-secrets=WEBHOOK_SECRET=…
	srv := httptest.NewServer(http.HandlerFunc(handleWebhook))
	defer srv.Close()

	body := `{"id":"evt_1","type":"user.created","data":{"name":"Ada"}}`
	for _, sent := range []string{body, strings.Replace(body, "Ada", "Eve", 1)} {
		req := signedRequest(srv.URL, exampleSecret, body) // signed by hookrun
		req.Body = io.NopCloser(strings.NewReader(sent))   // what arrived
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// 204
	// 401
}
