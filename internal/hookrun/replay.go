package hookrun

import "time"

// ReplayState is where a replay of dead letters stands.
type ReplayState string

// Replay states.
const (
	// ReplayRunning: the dispatcher has the replay's job, or will soon.
	ReplayRunning ReplayState = "running"
	// ReplayDone: every dead letter the replay claimed was replayed (its
	// first attempt made) or skipped. Replayed deliveries that failed
	// that attempt go on retrying on their endpoint's schedule, which
	// the counts at read time show.
	ReplayDone ReplayState = "done"
	// ReplayFailed: the replay stopped on an error (Error). A job that
	// failed in the dispatcher is redelivered by Pub/Sub and resumes, so
	// the state may become running again.
	ReplayFailed ReplayState = "failed"
)

// Replay is the record of a replay of dead letters (one or many): ingest
// creates it with the claims, the dispatcher's job advances it. A job may
// run twice (a redelivered message, a crash), so its counts are set from
// what the job found, never added to.
type Replay struct {
	TenantID string `json:"tenant_id"`
	ID       string `json:"replay_id"`
	// Filter selected the dead letters of a bulk replay; a replay of one
	// dead letter has its endpoint only.
	Filter DeadLetterFilter `json:"filter"`
	State  ReplayState      `json:"state"`
	Counts ReplayCounts     `json:"counts"`
	// More is set when more dead letters matched than one replay claims:
	// replay again for the rest.
	More      bool      `json:"more,omitempty"`
	CreatedAt time.Time `json:"create_time"`
	// StartedAt is when the dispatcher's job first ran, EndedAt when the
	// replay became done or failed.
	StartedAt time.Time `json:"start_time,omitzero"`
	EndedAt   time.Time `json:"end_time,omitzero"`
	// Error says why a failed replay stopped, in words fit for the
	// tenant: never a dependency's raw error.
	Error string `json:"error,omitempty"`
}

// ReplayCounts are a replay's progress. The store keeps the first four;
// the last three are counted from the deliveries in the replay's chain
// when the replay is read, so they stay true after a crash or a second
// run of the job, and follow the retries after the replay is done.
type ReplayCounts struct {
	// Matched dead letters when the replay claimed them.
	Matched int64 `json:"matched"`
	// Claimed of those, held for this replay.
	Claimed int64 `json:"claimed"`
	// Replayed deliveries: started in the replay's chain.
	Replayed int64 `json:"replayed"`
	// Skipped dead letters: matched but held by another replay or of an
	// endpoint that is not active, or claimed but taken by another replay
	// after the claim lapsed.
	Skipped int64 `json:"skipped"`

	// Delivered so far: replayed deliveries that succeeded.
	Delivered int64 `json:"delivered"`
	// Retrying replayed deliveries, their next attempt scheduled.
	Retrying int64 `json:"retrying"`
	// Dead again: replayed deliveries that became dead letters again.
	Dead int64 `json:"dead"`
}

// NewReplay is the record of replay id of a tenant's dead letters that f
// selected, as claimed at now. A replay that claimed nothing has nothing
// to run: it is done at once.
func NewReplay(tenantID, id string, f DeadLetterFilter, c ReplayClaims, now time.Time) Replay {
	r := Replay{
		TenantID: tenantID, ID: id, Filter: f, State: ReplayRunning, More: c.More, CreatedAt: now,
		Counts: ReplayCounts{Matched: c.Claimed + c.Skipped, Claimed: c.Claimed, Skipped: c.Skipped},
	}
	if c.Claimed == 0 {
		r.State, r.EndedAt = ReplayDone, now
	}
	return r
}

// Done reports whether the replay has ended, done or failed.
func (r Replay) Done() bool { return r.State != ReplayRunning }

// Started returns r as its job (re)starts at now: running, with the time
// of the first start kept.
func (r Replay) Started(now time.Time) Replay {
	if r.StartedAt.IsZero() {
		r.StartedAt = now
	}
	r.State, r.EndedAt, r.Error = ReplayRunning, time.Time{}, ""
	return r
}

// Progressed returns r with what a run of its job has found so far:
// replayed deliveries started in the chain (by this run or an earlier one)
// and skipped claims that another replay took. A second run counts again
// from zero, so a count only ever grows to the larger of the two.
func (r Replay) Progressed(replayed, skipped int64) Replay {
	r.Counts.Replayed = max(r.Counts.Replayed, replayed)
	r.Counts.Skipped = max(r.Counts.Skipped, r.Counts.Matched-r.Counts.Claimed+skipped)
	return r
}

// Finished returns r as its job ended at now: done, or failed with
// reason when reason is not empty. Done, every matched dead letter that
// was not replayed was skipped, including claims an earlier run lost.
func (r Replay) Finished(now time.Time, reason string) Replay {
	r.EndedAt = now
	if reason != "" {
		r.State, r.Error = ReplayFailed, reason
		return r
	}
	r.State, r.Error = ReplayDone, ""
	r.Counts.Skipped = r.Counts.Matched - r.Counts.Replayed
	return r
}
