package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/run/ingest/client/internal/api"
)

// Event is an event to send.
type Event struct {
	// ID makes the send idempotent: an event ID is accepted once. Send
	// assigns one (evt_…) when it is empty, before the first attempt, so
	// that its retries carry the same.
	ID string
	// Type is the event type: lowercase dot-separated segments
	// ("invoice.paid").
	Type string
	// Data is the payload, any value that marshals to a JSON object (a
	// struct, a map, a json.RawMessage), delivered as it is.
	Data any
}

// eventBody is the JSON of an event: PublishEventRequest, with the data
// as the caller marshalled it.
type eventBody struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// body gives e its ID if it has none and answers its JSON.
func (e *Event) body() (eventBody, error) {
	if e.ID == "" {
		e.ID = hookrun.NewID("evt_")
	}
	data, err := json.Marshal(e.Data)
	if err != nil {
		return eventBody{}, fmt.Errorf("event %s: marshal data: %w", e.ID, err)
	}
	return eventBody{ID: e.ID, Type: e.Type, Data: data}, nil
}

// Send sends an event as the tenant of the client's API key and answers
// its ID once hookrun has it durably (202). Sending an ID again is
// accepted without a second delivery, so Send retries retryable failures
// (WithRetry) with the same ID. A failed Send still answers the ID it
// sent, for a later retry with the same.
func (c *Client) Send(ctx context.Context, e Event) (string, error) {
	return c.send(ctx, e, func(base string, body io.Reader) (*http.Request, error) {
		return api.NewPublishEventRequestWithBody(base, "application/json", body)
	})
}

// SendTo is Send for a tenant named in the path: how a producer key (or a
// GCP workload's ID token) sends, to any tenant it may send to; a tenant's
// own key may send to its tenant this way too.
func (c *Client) SendTo(ctx context.Context, tenant string, e Event) (string, error) {
	return c.send(ctx, e, func(base string, body io.Reader) (*http.Request, error) {
		return api.NewPublishTenantEventRequestWithBody(base, tenant, "application/json", body)
	})
}

// send sends e with the request that build makes of its JSON.
func (c *Client) send(ctx context.Context, e Event, build func(base string, body io.Reader) (*http.Request, error)) (string, error) {
	b, err := e.body()
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("event %s: %w", e.ID, err)
	}
	out, err := call[api.PublishEventResponse](ctx, c, set(func(base string) (*http.Request, error) {
		return build(base, bytes.NewReader(body))
	}))
	if err != nil {
		return e.ID, fmt.Errorf("send event %s: %w", e.ID, err)
	}
	return out.ID, nil
}

// EventQuery selects a tenant's events; zero fields select all.
type EventQuery struct {
	// EventType keeps only events of this type.
	EventType string
	// DeliveryState keeps only events with at least one delivery in
	// this state (DeliveryDead: every event with a dead letter).
	DeliveryState DeliveryState
	// Since and Until keep only events received in [Since, Until).
	Since, Until time.Time
	// PageSize is the number of events per page (0: the API's default).
	PageSize int
}

// EventPage is a page of events, newest first; NextPageToken, when not
// empty, asks for the next.
type EventPage struct {
	Events        []EventSummary
	NextPageToken string
}

// ListEvents answers a page of a tenant's events that q selects, from
// pageToken ("" for the first).
func (c *Client) ListEvents(ctx context.Context, tenant string, q EventQuery, pageToken string) (*EventPage, error) {
	params := &api.ListEventsParams{
		EventType: optional(q.EventType),
		Since:     optional(q.Since),
		Until:     optional(q.Until),
		PageSize:  optional(q.PageSize),
		PageToken: optional(pageToken),
	}
	if q.DeliveryState != "" {
		params.DeliveryStateParameter = Ptr(api.ListEventsParamsDeliveryState(q.DeliveryState))
	}
	out, err := call[api.EventList](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewListEventsRequest(base, tenant, params)
	}))
	if err != nil {
		return nil, err
	}
	return &EventPage{Events: out.Events, NextPageToken: deref(out.NextPageToken)}, nil
}

// Events iterates over a tenant's events that q selects, newest first,
// fetching a page when the loop reaches it.
func (c *Client) Events(ctx context.Context, tenant string, q EventQuery) iter.Seq2[EventSummary, error] {
	return all(ctx, func(ctx context.Context, token string) ([]EventSummary, string, error) {
		p, err := c.ListEvents(ctx, tenant, q, token)
		if err != nil {
			return nil, "", err
		}
		return p.Events, p.NextPageToken, nil
	})
}

// GetEvent answers an event of a tenant with its data and its deliveries,
// each with every attempt.
func (c *Client) GetEvent(ctx context.Context, tenant, event string) (*EventWithDeliveries, error) {
	return call[EventWithDeliveries](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewGetEventRequest(base, tenant, event)
	}))
}

// RedeliverEvent delivers an event again in a new attempt chain: to the
// endpoint endpoint (which must be active), or to every endpoint it
// matches when endpoint is empty.
func (c *Client) RedeliverEvent(ctx context.Context, tenant, event, endpoint string) (*ReplayStarted, error) {
	return call[ReplayStarted](ctx, c, write(func(base string) (*http.Request, error) {
		return api.NewRedeliverEventRequest(base, tenant, event, api.RedeliverRequest{EndpointID: optional(endpoint)})
	}))
}
