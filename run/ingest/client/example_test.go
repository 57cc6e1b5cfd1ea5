package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/hookrun/hookrun/run/ingest/client"
)

// standIn is a stand-in for the ingest service, so that the examples run:
// it answers each path with a canned JSON body.
func standIn() *httptest.Server {
	answers := map[string]struct {
		status int
		body   string
	}{
		"POST /v1/events":              {202, `{"id":"order-1042-paid"}`},
		"POST /v1/tenants/acme/events": {202, `{"id":"order-1043-paid"}`},
		"POST /v1/events:batch": {200, `{"results":[{"id":"order-1044-paid","result":"accepted"},
			{"result":"refused","error":{"code":400,"status":"INVALID_ARGUMENT","message":"type: \"Order Paid\" is not a valid event type"}}],
			"accepted":1,"duplicates":0,"refused":1}`},
		"POST /v1/tenants/acme/endpoints": {201, `{"id":"ep_2qhc3ouwj4rhk7k3h6nql4c2ua","tenant_id":"acme","url":"https://acme.example/webhooks",
			"event_types":["order.*"],"status":"active","create_time":"2026-12-07T12:00:00Z","propagate_trace":false,"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`},
		"GET /v1/tenants/acme/events": {200, `{"events":[
			{"id":"order-1042-paid","tenant_id":"acme","type":"order.paid","source":"api","receive_time":"2026-12-07T12:00:02Z","deliveries":{"pending":0,"succeeded":1,"retrying":0,"dead":0}},
			{"id":"order-1041-paid","tenant_id":"acme","type":"order.paid","source":"api","receive_time":"2026-12-07T12:00:01Z","deliveries":{"pending":0,"succeeded":0,"retrying":0,"dead":1}}]}`},
		"GET /v1/tenants/acme/endpoints/ep_gone": {404, `{"error":{"code":404,"status":"NOT_FOUND","message":"endpoint \"ep_gone\" not found"}}`},
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		a, ok := answers[r.Method+" "+r.URL.Path]
		if !ok {
			a.status, a.body = 404, `{"error":{"code":404,"status":"NOT_FOUND","message":"no route"}}`
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
}

// A producer's client: the service's URL and a tenant API key, with the
// defaults for retries and timeouts changed.
func ExampleNew() {
	c, err := client.New("https://ingest.example.com",
		client.WithAPIKey(os.Getenv("HOOKRUN_API_KEY")),
		client.WithUserAgent("billing/2.3"),
		client.WithTimeout(10*time.Second),
		client.WithRetry(client.RetryConfig{MaxAttempts: 6, MaxBackoff: 30 * time.Second}),
	)
	if err != nil {
		log.Fatal(err)
	}
	_ = c
}

// A GCP workload sends with no stored secret: a Google ID token for the
// service's URL. Any oauth2.TokenSource works; this one stands in for
// google.golang.org/api/idtoken.NewTokenSource(ctx, "https://ingest.example.com").
func ExampleWithTokenSource() {
	var ts oauth2.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "eyJhbGciOiJSUzI1NiJ9…"})
	c, err := client.New("https://ingest.example.com", client.WithTokenSource(ts))
	if err != nil {
		log.Fatal(err)
	}
	_ = c
}

// Send hands an event to hookrun. Its ID makes retries safe: Send retries
// with the same ID, and an ID is accepted once.
func ExampleClient_Send() {
	srv := standIn()
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithAPIKey("hkr_…"))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := c.Send(ctx, client.Event{
		ID:   "order-1042-paid",
		Type: "order.paid",
		Data: map[string]any{"order": 1042, "amount": "99.00", "currency": "EUR"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("accepted", id)
	// Output: accepted order-1042-paid
}

// A SaaS backend holds one producer key for all its customers and names
// the tenant of each event.
func ExampleClient_SendTo() {
	srv := standIn()
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithProducerKey("hkrp_…"))
	if err != nil {
		log.Fatal(err)
	}
	id, err := c.SendTo(context.Background(), "acme", client.Event{
		ID:   "order-1043-paid",
		Type: "order.paid",
		Data: map[string]any{"order": 1043},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("accepted", id)
	// Output: accepted order-1043-paid
}

// SendBatch sends many events in few requests and answers each one's
// outcome, in order: one bad event refuses only itself.
func ExampleClient_SendBatch() {
	srv := standIn()
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithAPIKey("hkr_…"))
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.SendBatch(context.Background(), []client.Event{
		{ID: "order-1044-paid", Type: "order.paid", Data: map[string]any{"order": 1044}},
		{ID: "order-1045-paid", Type: "Order Paid", Data: map[string]any{"order": 1045}},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res.Results {
		if r.Outcome == client.Refused {
			fmt.Println(r.ID, r.Outcome, r.Err.Code)
			continue
		}
		fmt.Println(r.ID, r.Outcome)
	}
	fmt.Printf("%d accepted, %d refused\n", res.Accepted, res.Refused)
	// Output:
	// order-1044-paid accepted
	// order-1045-paid refused INVALID_ARGUMENT
	// 1 accepted, 1 refused
}

// A tenant registers its webhook endpoint and keeps the signing secret,
// which the API shows only once.
func ExampleClient_CreateEndpoint() {
	srv := standIn()
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithAPIKey("hkr_…"))
	if err != nil {
		log.Fatal(err)
	}
	ep, err := c.CreateEndpoint(context.Background(), "acme", client.CreateEndpointRequest{
		URL:         "https://acme.example/webhooks",
		EventTypes:  []string{"order.*"},
		Description: client.Ptr("orders to the ERP"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ep.ID, ep.Status, strings.HasPrefix(ep.Secret, "whsec_"))
	// Output: ep_2qhc3ouwj4rhk7k3h6nql4c2ua active true
}

// Events iterates over a tenant's events, newest first, fetching pages as
// the loop goes.
func ExampleClient_Events() {
	srv := standIn()
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithAPIKey("hkr_…"))
	if err != nil {
		log.Fatal(err)
	}
	for e, err := range c.Events(context.Background(), "acme", client.EventQuery{EventType: "order.paid"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s delivered %d, dead %d\n", e.ID, e.Deliveries.Succeeded, e.Deliveries.Dead)
	}
	// Output:
	// order-1042-paid delivered 1, dead 0
	// order-1041-paid delivered 0, dead 1
}

// A refusal is an *client.Error with the HTTP status, the API's code and
// message, and Retry-After when the API gave one. The client has already
// retried what was retryable.
func ExampleError() {
	srv := standIn()
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithAPIKey("hkr_…"))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.GetEndpoint(context.Background(), "acme", "ep_gone")
	var apiErr *client.Error
	switch {
	case client.IsCode(err, client.CodeNotFound):
		fmt.Println("no such endpoint")
	case errors.As(err, &apiErr) && client.IsRetryable(err):
		fmt.Println("try again in", apiErr.RetryAfter)
	case err != nil:
		log.Fatal(err)
	}
	errors.As(err, &apiErr)
	fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Message)
	// Output:
	// no such endpoint
	// 404 NOT_FOUND endpoint "ep_gone" not found
}
