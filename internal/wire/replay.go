package wire

import "time"

// AttrJob marks a message on the events topic that carries a job for the
// dispatcher rather than an event; its value names the job, its data holds
// the job's parameters. Today every job is a replay of dead letters.
const AttrJob = "hookrun_job"

// Replay jobs, by the value of AttrJob. Both carry AttrTenantID and, in
// AttrChain, the replay's chain.
const (
	// JobReplayClaimed replays, in the chain AttrChain, the dead letters of
	// the tenant that ingest claimed for that chain; the message has no
	// data. Build it with ReplayClaimedAttributes.
	JobReplayClaimed = "replay_claimed"
	// JobReplayDeadLetters is what ingest published before claims: replay
	// every dead letter of the tenant that matches the DeadLetterFilter in
	// the message data. Ingest no longer publishes it; the dispatcher
	// still runs it, so that messages in flight across an upgrade are not
	// lost.
	JobReplayDeadLetters = "replay_dead_letters"
)

// ReplayClaimedAttributes returns the attributes of the JobReplayClaimed
// message that hands the dispatcher the replay of what chain claimed.
func ReplayClaimedAttributes(tenantID, chain string) map[string]string {
	return map[string]string{AttrTenantID: tenantID, AttrJob: JobReplayClaimed, AttrChain: chain}
}

// DeadLetterFilter is the data of a JobReplayDeadLetters message. Its
// fields are hookrun.DeadLetterFilter's, in the same order, so the two
// convert with a plain conversion.
type DeadLetterFilter struct {
	EndpointID string    `json:"endpoint_id,omitempty"`
	EventType  string    `json:"event_type,omitempty"`
	Since      time.Time `json:"since,omitzero"` // dead at or after
	Until      time.Time `json:"until,omitzero"` // dead before
}
