package hookrun

import "time"

// DeletionState is where a tenant's deletion stands.
type DeletionState string

// Deletion states.
const (
	// DeletionRunning: the tenant is marked deleting and its records are
	// being deleted, after DELETE's answer if they were many.
	DeletionRunning DeletionState = "running"
	// DeletionDone: the tenant and every record of it are gone.
	DeletionDone DeletionState = "done"
	// DeletionFailed: the deletion stopped on an error (Error); DELETE the
	// tenant again to resume it, which makes it running again.
	DeletionFailed DeletionState = "failed"
)

// TenantDeletionRetention is how long the record of a finished deletion
// is kept: GET …/deletion answers for that long after the tenant is gone.
const TenantDeletionRetention = 30 * 24 * time.Hour

// TenantDeletion is the record of a tenant's deletion. It is kept apart
// from the tenant's own records, so it outlives them: it says done once
// the tenant is gone. Each DELETE of the tenant resumes it, and the steps
// that delete records add to it.
type TenantDeletion struct {
	TenantID string        `json:"tenant_id"`
	State    DeletionState `json:"state"`
	// Deleted counts the documents deleted so far (API keys, endpoints,
	// events, deliveries, replays, rejected messages, the tenant): at
	// least that many, since a step cut short by a crash may have deleted
	// more than it recorded.
	Deleted   int64     `json:"deleted"`
	StartedAt time.Time `json:"start_time"`
	EndedAt   time.Time `json:"end_time,omitzero"`
	// Error says why a failed deletion stopped, in words fit for the
	// caller: never a dependency's raw error.
	Error string `json:"error,omitempty"`
}

// Done reports whether the deletion has ended, done or failed.
func (d TenantDeletion) Done() bool { return d.State == DeletionDone || d.State == DeletionFailed }

// Resumed returns d as a DELETE of tenantID (re)starts it at now: a new
// record when there is none or the last deletion of a tenant of that ID
// ended done, else the same one running again, its start and count kept.
func (d TenantDeletion) Resumed(tenantID string, now time.Time) TenantDeletion {
	if d.StartedAt.IsZero() || d.State == DeletionDone {
		return TenantDeletion{TenantID: tenantID, State: DeletionRunning, StartedAt: now}
	}
	d.State, d.EndedAt, d.Error = DeletionRunning, time.Time{}, ""
	return d
}

// Progressed returns d with deleted more documents counted.
func (d TenantDeletion) Progressed(deleted int) TenantDeletion {
	d.Deleted += int64(deleted)
	return d
}

// Finished returns d as it ended at now: done, or failed with reason when
// reason is not empty.
func (d TenantDeletion) Finished(now time.Time, reason string) TenantDeletion {
	d.EndedAt = now
	if reason != "" {
		d.State, d.Error = DeletionFailed, reason
		return d
	}
	d.State, d.Error = DeletionDone, ""
	return d
}

// ExpireAt is when the record of d may be deleted: TenantDeletionRetention
// after it ended; a running deletion's record is kept.
func (d TenantDeletion) ExpireAt() time.Time {
	if !d.Done() {
		return time.Time{}
	}
	return d.EndedAt.Add(TenantDeletionRetention)
}
