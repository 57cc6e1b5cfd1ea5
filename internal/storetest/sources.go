package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

func newSourceBinding(t *testing.T, tenantID string, m hookrun.SourceMatch) hookrun.SourceBinding {
	t.Helper()
	b, err := hookrun.NewSourceBinding(tenantID, m, "", "", Now())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testSourceBindings(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	bucket := hookrun.SourceMatch{Storage: &hookrun.StorageMatch{Bucket: "uploads"}}
	create := hookrun.SourceMatch{AuditLog: &hookrun.AuditLogMatch{ServiceName: "storage.googleapis.com", MethodName: "storage.buckets.create"}}
	del := hookrun.SourceMatch{AuditLog: &hookrun.AuditLogMatch{ServiceName: "storage.googleapis.com", MethodName: "storage.buckets.delete"}}
	fixed, err := hookrun.NewSourceBinding("acme", bucket, hookrun.TypeFixed, "upload.stored", Now())
	if err != nil {
		t.Fatal(err)
	}
	b2, b3 := newSourceBinding(t, "acme", create), newSourceBinding(t, "acme", del)
	for _, b := range []hookrun.SourceBinding{fixed, b2, b3} {
		if err := s.CreateSourceBinding(ctx, b); err != nil {
			t.Fatalf("CreateSourceBinding(%s): %v", b.Match.Claim(), err)
		}
	}
	// What is read back is what was stored, every field.
	got, err := s.ListSourceBindings(ctx, "acme")
	if err != nil || len(got) != 3 || got[0].ID != fixed.ID || got[0].TypeRule != hookrun.TypeFixed || got[0].EventType != "upload.stored" ||
		got[0].Match.Storage == nil || got[0].Match.Storage.Bucket != "uploads" || !got[0].CreatedAt.Equal(fixed.CreatedAt.Truncate(time.Microsecond)) {
		t.Fatalf("ListSourceBindings = %+v, %v; want the 3 bindings, oldest first", got, err)
	}
	audit, err := s.SourceBindings(ctx, create.Claim())
	if err != nil || len(audit) != 2 || audit[0].TenantID != "acme" || audit[0].Match.AuditLog.MethodName == audit[1].Match.AuditLog.MethodName {
		t.Errorf("SourceBindings(audit-log claim) = %+v, %v; want the 2 methods", audit, err)
	}
	if none, err := s.SourceBindings(ctx, "storage bucket other"); err != nil || len(none) != 0 {
		t.Errorf("SourceBindings(unclaimed) = %v, %v; want none", none, err)
	}
	// A claim is one tenant's; within it, bindings do not overlap.
	err = s.CreateSourceBinding(ctx, newSourceBinding(t, "globex", del))
	WantCode(t, "another tenant's claim", err, hookrun.CodeAlreadyExists)
	err = s.CreateSourceBinding(ctx, newSourceBinding(t, "acme", bucket))
	WantCode(t, "an overlapping binding", err, hookrun.CodeAlreadyExists)
	if other, _ := s.ListSourceBindings(ctx, "globex"); len(other) != 0 {
		t.Errorf("globex has %v after refusals", other)
	}

	WantCode(t, "delete another tenant's", s.DeleteSourceBinding(ctx, "globex", fixed.ID), hookrun.CodeNotFound)
	if err := s.DeleteSourceBinding(ctx, "acme", fixed.ID); err != nil {
		t.Fatalf("DeleteSourceBinding: %v", err)
	}
	WantCode(t, "delete again", s.DeleteSourceBinding(ctx, "acme", fixed.ID), hookrun.CodeNotFound)
	if left, _ := s.SourceBindings(ctx, bucket.Claim()); len(left) != 0 {
		t.Errorf("bucket claim after its binding's deletion: %v", left)
	}
	// A claim whose last binding is gone is free for another tenant.
	if err := s.CreateSourceBinding(ctx, newSourceBinding(t, "globex", bucket)); err != nil {
		t.Errorf("bind a freed bucket: %v", err)
	}
	if err := s.DeleteSourceBinding(ctx, "acme", b2.ID); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.SourceBindings(ctx, del.Claim()); len(left) != 1 || left[0].ID != b3.ID {
		t.Errorf("audit-log claim after one deletion = %v, want %s only", left, b3.ID)
	}
}

// testSourceBindingsConcurrent: of two tenants binding one bucket at
// once, exactly one gets it.
func testSourceBindingsConcurrent(t *testing.T, open Opener) {
	s := open.store(t)
	m := hookrun.SourceMatch{Storage: &hookrun.StorageMatch{Bucket: "contested"}}
	tenants := []string{"acme", "globex", "initech", "umbrella"}
	errs := make([]error, len(tenants))
	var wg sync.WaitGroup
	for i, tn := range tenants {
		b := newSourceBinding(t, tn, m)
		wg.Go(func() { errs[i] = s.CreateSourceBinding(t.Context(), b) })
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case hookrun.ErrorCode(err) != hookrun.CodeAlreadyExists:
			t.Errorf("%s: %v, want bound or ALREADY_EXISTS", tenants[i], err)
		}
	}
	held, err := s.SourceBindings(t.Context(), m.Claim())
	if won != 1 || err != nil || len(held) != 1 {
		t.Errorf("%d tenants bound the bucket, it holds %v (%v); want exactly one", won, held, err)
	}
}
