package client

import (
	"context"
	"iter"
	"net/http"

	"github.com/hookrun/hookrun/run/ingest/client/internal/api"
)

// DeadLetterPage is a page of dead letters; NextPageToken, when not empty,
// asks for the next.
type DeadLetterPage struct {
	DeadLetters   []Delivery
	NextPageToken string
}

// ListDeadLetters answers a page of a tenant's dead letters that f
// selects, pageSize at most (0: the API's default), from pageToken (""
// for the first).
func (c *Client) ListDeadLetters(ctx context.Context, tenant string, f DeadLetterFilter, pageSize int, pageToken string) (*DeadLetterPage, error) {
	params := &api.ListDeadLettersParams{
		EndpointID: f.EndpointID,
		EventType:  f.EventType,
		Since:      f.Since,
		Until:      f.Until,
		PageSize:   optional(pageSize),
		PageToken:  optional(pageToken),
	}
	out, err := call[api.DeadLetterList](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewListDeadLettersRequest(base, tenant, params)
	}))
	if err != nil {
		return nil, err
	}
	return &DeadLetterPage{DeadLetters: out.DeadLetters, NextPageToken: deref(out.NextPageToken)}, nil
}

// DeadLetters iterates over a tenant's dead letters that f selects,
// fetching a page when the loop reaches it.
func (c *Client) DeadLetters(ctx context.Context, tenant string, f DeadLetterFilter) iter.Seq2[Delivery, error] {
	return all(ctx, func(ctx context.Context, token string) ([]Delivery, string, error) {
		p, err := c.ListDeadLetters(ctx, tenant, f, 0, token)
		if err != nil {
			return nil, "", err
		}
		return p.DeadLetters, p.NextPageToken, nil
	})
}

// ReplayDeadLetter delivers one dead letter (its ID is {event}:{endpoint},
// Delivery.ID) again in a new attempt chain.
func (c *Client) ReplayDeadLetter(ctx context.Context, tenant, id string) (*ReplayStarted, error) {
	return call[ReplayStarted](ctx, c, write(func(base string) (*http.Request, error) {
		return api.NewReplayDeadLetterRequest(base, tenant, id)
	}))
}

// ReplayDeadLetters replays every dead letter of a tenant that f selects,
// in the background: GetReplay follows it by the answer's ReplayID. When
// the answer says More, more dead letters matched than one replay claims:
// call again for the rest.
func (c *Client) ReplayDeadLetters(ctx context.Context, tenant string, f DeadLetterFilter) (*ReplayStarted, error) {
	return call[ReplayStarted](ctx, c, write(func(base string) (*http.Request, error) {
		return api.NewReplayDeadLettersRequest(base, tenant, f)
	}))
}

// GetReplay answers the progress of a replay of dead letters.
func (c *Client) GetReplay(ctx context.Context, tenant, replay string) (*Replay, error) {
	return call[Replay](ctx, c, read(func(base string) (*http.Request, error) {
		return api.NewGetReplayRequest(base, tenant, replay)
	}))
}
