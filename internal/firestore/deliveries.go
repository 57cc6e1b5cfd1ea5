package firestore

import (
	"context"
	"fmt"
	"time"

	fs "cloud.google.com/go/firestore"

	"github.com/hookrun/hookrun/internal/hookrun"
)

type deliveryDoc struct {
	EventID        string       `firestore:"event_id"`
	EndpointID     string       `firestore:"endpoint_id"`
	EventType      string       `firestore:"event_type"`
	WebhookID      string       `firestore:"webhook_id"`
	State          string       `firestore:"state"`
	AttemptCount   int          `firestore:"attempt_count"`
	LastStatusCode int          `firestore:"last_status_code"`
	LastError      string       `firestore:"last_error"`
	UpdateTime     time.Time    `firestore:"update_time"`
	ExpireTime     time.Time    `firestore:"expire_time"`
	Attempts       []attemptDoc `firestore:"attempts"`
}

type attemptDoc struct {
	Number       int       `firestore:"number"`
	StartTime    time.Time `firestore:"start_time"`
	StatusCode   int       `firestore:"status_code"`
	LatencyMS    float64   `firestore:"latency_ms"`
	Error        string    `firestore:"error"`
	ResponseBody string    `firestore:"response_body"`
}

// GetDeliveries returns the existing deliveries of one event to the given
// endpoints, by endpoint ID, in one read.
func (s *Store) GetDeliveries(ctx context.Context, tenantID, eventID string, endpointIDs []string) (map[string]hookrun.Delivery, error) {
	refs := make([]*fs.DocumentRef, len(endpointIDs))
	for i, id := range endpointIDs {
		refs[i] = s.deliveryRef(tenantID, eventID, id)
	}
	snaps, err := s.c.GetAll(ctx, refs)
	if err != nil {
		return nil, coded(err, fmt.Sprintf("deliveries of event %q", eventID))
	}
	out := make(map[string]hookrun.Delivery, len(snaps))
	for _, snap := range snaps {
		if !snap.Exists() {
			continue
		}
		var d deliveryDoc
		if err := snap.DataTo(&d); err != nil {
			return nil, fmt.Errorf("decode delivery %s: %w", snap.Ref.ID, err)
		}
		out[d.EndpointID] = d.delivery(tenantID)
	}
	return out, nil
}

func (d deliveryDoc) delivery(tenantID string) hookrun.Delivery {
	return hookrun.Delivery{
		TenantID:       tenantID,
		EventID:        d.EventID,
		EndpointID:     d.EndpointID,
		EventType:      d.EventType,
		WebhookID:      d.WebhookID,
		State:          hookrun.DeliveryState(d.State),
		Attempts:       d.AttemptCount,
		LastStatusCode: d.LastStatusCode,
		LastError:      d.LastError,
		UpdatedAt:      d.UpdateTime,
	}
}

// RecordAttempt stores the outcome of one attempt and the delivery's new
// state in a single write: the attempt is appended to the delivery's list,
// so there is no multi-document transaction on the hot path.
func (s *Store) RecordAttempt(ctx context.Context, d hookrun.Delivery, a hookrun.Attempt) error {
	_, err := s.deliveryRef(d.TenantID, d.EventID, d.EndpointID).Set(ctx, map[string]any{
		"event_id":         d.EventID,
		"endpoint_id":      d.EndpointID,
		"event_type":       d.EventType,
		"webhook_id":       d.WebhookID,
		"state":            string(d.State),
		"last_status_code": d.LastStatusCode,
		"last_error":       d.LastError,
		"update_time":      d.UpdatedAt,
		"expire_time":      d.UpdatedAt.Add(s.retention),
		"attempt_count":    fs.Increment(1),
		"attempts": fs.ArrayUnion(attemptDoc{
			Number:       a.Number,
			StartTime:    a.StartedAt,
			StatusCode:   a.StatusCode,
			LatencyMS:    float64(a.Latency.Microseconds()) / 1000,
			Error:        a.Error,
			ResponseBody: a.ResponseBody,
		}),
	}, fs.MergeAll)
	return coded(err, fmt.Sprintf("delivery %q", hookrun.DeliveryID(d.EventID, d.EndpointID)))
}

// GetAttempts returns the attempts of one delivery, oldest first.
func (s *Store) GetAttempts(ctx context.Context, tenantID, eventID, endpointID string) ([]hookrun.Attempt, error) {
	snap, err := s.deliveryRef(tenantID, eventID, endpointID).Get(ctx)
	if err != nil {
		return nil, coded(err, fmt.Sprintf("delivery %q", hookrun.DeliveryID(eventID, endpointID)))
	}
	var d deliveryDoc
	if err := snap.DataTo(&d); err != nil {
		return nil, fmt.Errorf("decode delivery %s: %w", snap.Ref.ID, err)
	}
	out := make([]hookrun.Attempt, len(d.Attempts))
	for i, a := range d.Attempts {
		out[i] = hookrun.Attempt{
			Number:       a.Number,
			StartedAt:    a.StartTime,
			StatusCode:   a.StatusCode,
			Latency:      time.Duration(a.LatencyMS * float64(time.Millisecond)),
			Error:        a.Error,
			ResponseBody: a.ResponseBody,
		}
	}
	return out, nil
}

type rejectedDoc struct {
	Reason      string            `firestore:"reason"`
	TenantID    string            `firestore:"tenant_id"`
	Attributes  map[string]string `firestore:"attributes"`
	Data        []byte            `firestore:"data"`
	PublishTime time.Time         `firestore:"publish_time"`
	RejectTime  time.Time         `firestore:"reject_time"`
	ExpireTime  time.Time         `firestore:"expire_time"`
}

// RecordRejected keeps a message that could not become an event, with its
// reason. Recording the same message twice keeps one record.
func (s *Store) RecordRejected(ctx context.Context, m hookrun.RejectedMessage) error {
	_, err := s.c.Collection("rejected_messages").Doc(m.MessageID).Set(ctx, rejectedDoc{
		Reason:      m.Reason,
		TenantID:    m.TenantID,
		Attributes:  m.Attributes,
		Data:        m.Data,
		PublishTime: m.PublishedAt,
		RejectTime:  m.RejectedAt,
		ExpireTime:  m.RejectedAt.Add(s.retention),
	})
	return coded(err, fmt.Sprintf("rejected message %q", m.MessageID))
}

// GetRejected returns a rejected message by its Pub/Sub message ID.
func (s *Store) GetRejected(ctx context.Context, messageID string) (hookrun.RejectedMessage, error) {
	snap, err := s.c.Collection("rejected_messages").Doc(messageID).Get(ctx)
	if err != nil {
		return hookrun.RejectedMessage{}, coded(err, fmt.Sprintf("rejected message %q", messageID))
	}
	var d rejectedDoc
	if err := snap.DataTo(&d); err != nil {
		return hookrun.RejectedMessage{}, fmt.Errorf("decode rejected message %s: %w", messageID, err)
	}
	return hookrun.RejectedMessage{
		MessageID: messageID, Reason: d.Reason, TenantID: d.TenantID, Attributes: d.Attributes,
		Data: d.Data, PublishedAt: d.PublishTime, RejectedAt: d.RejectTime,
	}, nil
}
