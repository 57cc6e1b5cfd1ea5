package hookrun

import "time"

// DeliveryState is where the delivery of one event to one endpoint stands.
type DeliveryState string

// Delivery states.
const (
	// DeliveryPending: a replay started a fresh chain (firestore's
	// StartReplay) and its first attempt is not recorded yet. Only a
	// replayed delivery is ever pending: a first delivery is recorded with
	// its first attempt.
	DeliveryPending DeliveryState = "pending"
	// DeliverySucceeded: an attempt got a 2xx. Redeliveries skip it.
	DeliverySucceeded DeliveryState = "succeeded"
	// DeliveryRetrying: the last attempt failed and the next one is
	// scheduled (a Cloud Task) for NextAttemptAt.
	DeliveryRetrying DeliveryState = "retrying"
	// DeliveryDead: no attempt will follow (exhausted, 410, a final 4xx, the
	// endpoint gone). A dead letter, kept with its history until replayed.
	DeliveryDead DeliveryState = "dead"
)

// Delivery is the story of one event to one endpoint: its state and the
// outcome of the last attempt. Every attempt is kept as an Attempt.
type Delivery struct {
	TenantID   string `json:"tenant_id"`
	EventID    string `json:"event_id"`
	EndpointID string `json:"endpoint_id"`
	EventType  string `json:"event_type"`
	// EventAt is when the event was received: metrics windows select on it.
	EventAt        time.Time     `json:"event_time,omitzero"`
	WebhookID      string        `json:"webhook_id"`
	State          DeliveryState `json:"state"`
	Attempts       int           `json:"attempts"`
	LastStatusCode int           `json:"last_status_code,omitempty"`
	LastError      string        `json:"last_error,omitempty"`
	UpdatedAt      time.Time     `json:"update_time"`

	// Chain identifies the current attempt chain: "" for the original
	// delivery, a replay ID after each replay or redelivery. Attempt
	// numbers and the retry policy's max attempts count within a chain.
	Chain         string `json:"chain,omitempty"`
	ChainAttempts int    `json:"chain_attempts"`
	// NextAttemptAt is when the scheduled retry runs (state retrying).
	NextAttemptAt time.Time `json:"next_attempt_time,omitzero"`
	// DeadReason says why the delivery is dead (state dead).
	DeadReason string    `json:"dead_reason,omitempty"`
	DeadAt     time.Time `json:"dead_time,omitzero"`
	// Announced is set once the dead letter was published on the
	// dead-letters topic, the last of what follows its death.
	Announced bool `json:"-"`
	// CountsInARow is set on a dead letter that counts against its
	// endpoint's dead letters in a row (Endpoint.ConsecutiveDead), which
	// disable the endpoint when too many: one whose attempts failed for
	// good, not one made dead by a 410 or for want of an active endpoint
	// or of the event's data.
	CountsInARow bool `json:"-"`
	// ReplayChain is the replay that last claimed this dead letter, and
	// ReplayClaimedAt when: a claim makes every other replay leave the
	// dead letter alone (ClaimableAt), so it is sent once. The replay
	// starts its chain with the claim's ID.
	ReplayChain     string    `json:"replay_id,omitempty"`
	ReplayClaimedAt time.Time `json:"-"`
	// Attempts of every chain, oldest first, when loaded with them.
	AttemptLog []Attempt `json:"attempt_log,omitempty"`
}

// ReplayClaimTTL is how long a replay's claim on a dead letter keeps other
// replays away before its chain starts. A replay starts within seconds
// (Pub/Sub delivers its message to the dispatcher); the claim outlives
// that only when the replay's message could not be published or the
// dispatcher could not take it, and then the dead letter may be replayed
// again once the claim has lapsed.
const ReplayClaimTTL = 15 * time.Minute

// ClaimableAt reports whether a replay may claim the delivery at now: it is
// a dead letter, and no other replay holds a live claim on it (one that
// has not yet started its chain and has not lapsed).
func (d Delivery) ClaimableAt(now time.Time) error {
	if d.State != DeliveryDead {
		return Errorf(CodeFailedPrecondition, "delivery %q is %s, not a dead letter", DeliveryID(d.EventID, d.EndpointID), d.State)
	}
	if d.ReplayChain != "" && d.ReplayChain != d.Chain && now.Before(d.ReplayClaimedAt.Add(ReplayClaimTTL)) {
		return Errorf(CodeFailedPrecondition, "dead letter %q is being replayed by %s", DeliveryID(d.EventID, d.EndpointID), d.ReplayChain)
	}
	return nil
}

// ReplayClaims is what claiming dead letters for a bulk replay came to.
type ReplayClaims struct {
	// Claimed dead letters the replay will send.
	Claimed int64
	// Skipped dead letters that matched but that another replay holds or
	// whose endpoint is not active.
	Skipped int64
	// More is set when the claim stopped at its limit with dead letters
	// left to claim.
	More bool
}

// DeliveryID is the document ID of the delivery of eventID to endpointID.
func DeliveryID(eventID, endpointID string) string { return eventID + ":" + endpointID }

// Attempt is one HTTP request to an endpoint and what came of it.
type Attempt struct {
	// Number counts within the attempt's chain, from 1.
	Number     int           `json:"number"`
	Chain      string        `json:"chain,omitempty"`
	StartedAt  time.Time     `json:"start_time"`
	StatusCode int           `json:"status_code,omitempty"` // 0 when no response arrived
	Latency    time.Duration `json:"latency"`
	Error      string        `json:"error,omitempty"`
	// ResponseBody is the first bytes of the response, for debugging a
	// receiver; never the request, which may carry the signature.
	ResponseBody string `json:"response_body,omitempty"`
	// RetryAfter is the response's Retry-After header, for the verdict;
	// not stored.
	RetryAfter string `json:"-"`
}

// AttemptRecord is an attempt with the state it left its delivery in:
// what a store records together.
type AttemptRecord struct {
	Delivery Delivery
	Attempt  Attempt
}

// Succeeded reports whether the attempt got a 2xx answer.
func (a Attempt) Succeeded() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

// RejectedMessage is a message on the events topic that hookrun could not
// turn into an event (no tenant, no type, not JSON, unknown tenant…). It is
// kept with its reason so nothing published is silently dropped.
type RejectedMessage struct {
	MessageID  string            `json:"message_id"`
	Reason     string            `json:"reason"`
	TenantID   string            `json:"tenant_id,omitempty"`
	Attributes map[string]string `json:"attributes"`
	// Data is at most the first MaxRejectedData bytes of the message.
	Data        []byte    `json:"data"`
	PublishedAt time.Time `json:"publish_time"`
	RejectedAt  time.Time `json:"reject_time"`
}

// MaxRejectedData bounds how much of a rejected message is kept.
const MaxRejectedData = 16 << 10

// DeadLetterFilter selects dead letters; zero fields match everything.
type DeadLetterFilter struct {
	EndpointID string    `json:"endpoint_id,omitempty"`
	EventType  string    `json:"event_type,omitempty"`
	Since      time.Time `json:"since,omitzero"` // dead at or after
	Until      time.Time `json:"until,omitzero"` // dead before
}

// Validate checks the filter's fields.
func (f DeadLetterFilter) Validate() error {
	if f.EventType != "" {
		if err := ValidateEventType(f.EventType); err != nil {
			return Errorf(CodeInvalidArgument, "event_type: %s", ErrorMessage(err))
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return Errorf(CodeInvalidArgument, "since: must be before until")
	}
	return nil
}
