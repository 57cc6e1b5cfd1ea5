package hookrun

import (
	"testing"
	"time"
)

func TestTenantDeletionLifecycle(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	d := TenantDeletion{}.Resumed("acme", t0)
	if d.State != DeletionRunning || !d.StartedAt.Equal(t0) || d.TenantID != "acme" || d.Done() || !d.ExpireAt().IsZero() {
		t.Fatalf("new deletion = %+v", d)
	}
	d = d.Progressed(500).Finished(t0.Add(time.Minute), "the deletion stopped; DELETE again")
	if d.State != DeletionFailed || !d.Done() || d.Deleted != 500 {
		t.Fatalf("failed deletion = %+v", d)
	}
	// DELETE again resumes it: same start, count kept, running.
	d = d.Resumed("acme", t0.Add(time.Hour))
	if d.State != DeletionRunning || !d.StartedAt.Equal(t0) || d.Deleted != 500 || d.Error != "" || !d.EndedAt.IsZero() {
		t.Fatalf("resumed deletion = %+v", d)
	}
	d = d.Progressed(20).Finished(t0.Add(2*time.Hour), "")
	if d.State != DeletionDone || d.Deleted != 520 || !d.ExpireAt().Equal(t0.Add(2*time.Hour+TenantDeletionRetention)) {
		t.Fatalf("done deletion = %+v", d)
	}
	// A later tenant of the same ID deleted again starts a new record.
	if again := d.Resumed("acme", t0.Add(48*time.Hour)); again.Deleted != 0 || !again.StartedAt.Equal(t0.Add(48*time.Hour)) || again.State != DeletionRunning {
		t.Errorf("deletion of a new tenant of the same ID = %+v", again)
	}
}
