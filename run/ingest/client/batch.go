package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hookrun/hookrun/run/ingest/client/internal/api"
)

// Bounds of one request to the batch routes (the API's, declared in
// internal/ingest/batch.go): SendBatch splits larger batches into requests
// within them.
const (
	MaxBatchEvents = 500
	MaxBatchBytes  = 5 << 20
)

// BatchOutcome is what became of one event of a batch.
type BatchOutcome string

// The outcomes of a batch's events.
const (
	// Accepted: hookrun has the event durably.
	Accepted = BatchOutcome(api.PublishEventsResultResultAccepted)
	// Duplicate: an event with this ID was accepted before, or earlier
	// in the batch; nothing was sent again.
	Duplicate = BatchOutcome(api.PublishEventsResultResultDuplicate)
	// Refused: the event was refused, with Err saying why.
	Refused = BatchOutcome(api.PublishEventsResultResultRefused)
)

// BatchResult is the answer for one event of a batch.
type BatchResult struct {
	// ID is the event's ID, assigned by the client when it had none.
	ID      string
	Outcome BatchOutcome
	// Err says why a refused event was refused; IsRetryable(Err) is true
	// when it was still refused for a passing reason (a rate limit, an
	// outage) after the client's retries ran out.
	Err *Error
}

// BatchResults answers a batch, results[i] for events[i], with the
// outcomes counted.
type BatchResults struct {
	Results                       []BatchResult
	Accepted, Duplicates, Refused int
}

// SendBatch sends events as the tenant of the client's API key, in as
// few requests as the API's bounds allow (MaxBatchEvents, MaxBatchBytes),
// and answers each event's outcome in order. Every event is given its ID
// (evt_…) before the first request when it has none. A request that fails
// as a whole is retried like any send; an event refused for a passing
// reason (RESOURCE_EXHAUSTED, UNAVAILABLE, ABORTED) is sent again, alone
// with the others so refused, with the same ID, after the wait its
// refusal asks for. An error means a request failed as a whole: the
// results answer the events sent before it, the rest were not sent.
func (c *Client) SendBatch(ctx context.Context, events []Event) (*BatchResults, error) {
	return c.sendBatch(ctx, events, func(base string, body io.Reader) (*http.Request, error) {
		return api.NewPublishEventsRequestWithBody(base, "application/json", body)
	})
}

// SendBatchTo is SendBatch for a tenant named in the path, as a producer
// key, an ID token or the tenant's own key may send.
func (c *Client) SendBatchTo(ctx context.Context, tenant string, events []Event) (*BatchResults, error) {
	return c.sendBatch(ctx, events, func(base string, body io.Reader) (*http.Request, error) {
		return api.NewPublishTenantEventsRequestWithBody(base, tenant, "application/json", body)
	})
}

type batchBuilder func(base string, body io.Reader) (*http.Request, error)

func (c *Client) sendBatch(ctx context.Context, events []Event, build batchBuilder) (*BatchResults, error) {
	bodies := make([]json.RawMessage, len(events))
	for i := range events {
		b, err := events[i].body()
		if err != nil {
			return nil, err
		}
		if bodies[i], err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("event %s: %w", events[i].ID, err)
		}
	}
	out := &BatchResults{Results: make([]BatchResult, 0, len(events))}
	for start := 0; start < len(events); {
		end := chunkEnd(bodies, start)
		results, err := c.sendChunk(ctx, events[start:end], bodies[start:end], build)
		if err != nil {
			return out, err
		}
		out.Results = append(out.Results, results...)
		start = end
	}
	for _, r := range out.Results {
		switch r.Outcome {
		case Accepted:
			out.Accepted++
		case Duplicate:
			out.Duplicates++
		default:
			out.Refused++
		}
	}
	return out, nil
}

// chunkEnd answers the end of the request that starts at bodies[start]:
// as many events as the bounds allow, one at least.
func chunkEnd(bodies []json.RawMessage, start int) int {
	size := len(`{"events":[]}`)
	end := start
	for end < len(bodies) && end-start < MaxBatchEvents {
		size += len(bodies[end]) + 1
		if end > start && size > MaxBatchBytes {
			break
		}
		end++
	}
	return end
}

// sendChunk sends one request's events and then, until the attempts run
// out, those refused for a passing reason.
func (c *Client) sendChunk(ctx context.Context, events []Event, bodies []json.RawMessage, build batchBuilder) ([]BatchResult, error) {
	results := make([]BatchResult, len(events))
	pending := make([]int, len(events))
	for i := range pending {
		pending[i] = i
	}
	for attempt := 1; ; attempt++ {
		answers, err := c.postBatch(ctx, bodies, pending, build)
		if err != nil {
			return nil, err
		}
		var again []int
		var wait *Error
		for j, i := range pending {
			r := answers[j]
			if r.ID == "" {
				r.ID = events[i].ID
			}
			results[i] = r
			if r.Outcome == Refused && r.Err.retryable() {
				again = append(again, i)
				if wait == nil || r.Err.RetryAfter > wait.RetryAfter {
					wait = r.Err
				}
			}
		}
		if len(again) == 0 || attempt >= c.retry.MaxAttempts {
			return results, nil
		}
		if werr := c.retry.wait(ctx, attempt, wait); werr != nil {
			// Out of time: the refusals stand as the answer.
			return results, nil
		}
		pending = again
	}
}

// postBatch sends the events bodies[pending] in one request and answers
// their results in that order.
func (c *Client) postBatch(ctx context.Context, bodies []json.RawMessage, pending []int, build batchBuilder) ([]BatchResult, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"events":[`)
	for j, i := range pending {
		if j > 0 {
			buf.WriteByte(',')
		}
		buf.Write(bodies[i])
	}
	buf.WriteString(`]}`)
	body := buf.Bytes()
	out, err := call[api.PublishEventsResponse](ctx, c, set(func(base string) (*http.Request, error) {
		return build(base, bytes.NewReader(body))
	}))
	if err != nil {
		return nil, fmt.Errorf("send batch of %d events: %w", len(pending), err)
	}
	if len(out.Results) != len(pending) {
		return nil, fmt.Errorf("send batch of %d events: %d results in the answer", len(pending), len(out.Results))
	}
	results := make([]BatchResult, len(pending))
	for j, r := range out.Results {
		results[j] = BatchResult{ID: deref(r.ID), Outcome: BatchOutcome(r.Result)}
		if r.Error != nil {
			e := &Error{StatusCode: r.Error.Code, Code: Code(r.Error.Status), Message: r.Error.Message}
			for _, d := range r.Error.Details {
				if delay, err := time.ParseDuration(d.RetryDelay); err == nil && delay > 0 {
					e.RetryAfter = delay
				}
			}
			results[j].Err = e
		} else if results[j].Outcome == Refused {
			results[j].Err = &Error{StatusCode: http.StatusInternalServerError, Code: CodeInternal, Message: "refused without an error"}
		}
	}
	return results, nil
}
