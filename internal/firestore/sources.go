package firestore

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	fs "cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Source bindings live in source_claims/{sha256(claim)}, one document per
// claim (hookrun.SourceMatch.Claim) holding its tenant and every binding
// of that claim: the dispatcher finds a message's bindings with one read
// by a key it makes from the message alone, and a transaction on that one
// document keeps a claim to one tenant even when two tenants bind the
// same bucket at the same time.
type sourceClaimDoc struct {
	Claim    string             `firestore:"claim"`
	TenantID string             `firestore:"tenant_id"`
	Bindings []sourceBindingDoc `firestore:"bindings"`
}

type sourceBindingDoc struct {
	ID            string    `firestore:"id"`
	CESource      string    `firestore:"ce_source,omitempty"`
	CEType        string    `firestore:"ce_type,omitempty"`
	CETypePrefix  string    `firestore:"ce_type_prefix,omitempty"`
	Bucket        string    `firestore:"bucket,omitempty"`
	AuditService  string    `firestore:"audit_service,omitempty"`
	AuditMethod   string    `firestore:"audit_method,omitempty"`
	EventTypeRule string    `firestore:"event_type_rule"`
	EventType     string    `firestore:"event_type,omitempty"`
	CreateTime    time.Time `firestore:"create_time"`
}

func (s *Store) sourceClaims() *fs.CollectionRef { return s.c.Collection("source_claims") }

func (s *Store) sourceClaimRef(claim string) *fs.DocumentRef {
	h := sha256.Sum256([]byte(claim))
	return s.sourceClaims().Doc(hex.EncodeToString(h[:]))
}

func toSourceBindingDoc(b hookrun.SourceBinding) sourceBindingDoc {
	d := sourceBindingDoc{ID: b.ID, EventTypeRule: string(b.TypeRule), EventType: b.EventType, CreateTime: b.CreatedAt}
	switch m := b.Match; {
	case m.CloudEvents != nil:
		d.CESource, d.CEType, d.CETypePrefix = m.CloudEvents.Source, m.CloudEvents.Type, m.CloudEvents.TypePrefix
	case m.Storage != nil:
		d.Bucket = m.Storage.Bucket
	case m.AuditLog != nil:
		d.AuditService, d.AuditMethod = m.AuditLog.ServiceName, m.AuditLog.MethodName
	}
	return d
}

func (d sourceBindingDoc) binding(tenantID string) hookrun.SourceBinding {
	b := hookrun.SourceBinding{ID: d.ID, TenantID: tenantID, TypeRule: hookrun.EventTypeRule(d.EventTypeRule), EventType: d.EventType, CreatedAt: d.CreateTime}
	switch {
	case d.CESource != "":
		b.Match.CloudEvents = &hookrun.CloudEventsMatch{Source: d.CESource, Type: d.CEType, TypePrefix: d.CETypePrefix}
	case d.Bucket != "":
		b.Match.Storage = &hookrun.StorageMatch{Bucket: d.Bucket}
	default:
		b.Match.AuditLog = &hookrun.AuditLogMatch{ServiceName: d.AuditService, MethodName: d.AuditMethod}
	}
	return b
}

func decodeSourceClaim(snap *fs.DocumentSnapshot) (sourceClaimDoc, []hookrun.SourceBinding, error) {
	var d sourceClaimDoc
	if err := snap.DataTo(&d); err != nil {
		return d, nil, fmt.Errorf("decode source claim %s: %w", snap.Ref.ID, err)
	}
	out := make([]hookrun.SourceBinding, len(d.Bindings))
	for i, b := range d.Bindings {
		out[i] = b.binding(d.TenantID)
	}
	return d, out, nil
}

// CreateSourceBinding stores b unless hookrun.CheckNewSourceBinding
// refuses it beside the bindings that hold its claim, in a transaction.
func (s *Store) CreateSourceBinding(ctx context.Context, b hookrun.SourceBinding) error {
	claim := b.Match.Claim()
	ref := s.sourceClaimRef(claim)
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		d := sourceClaimDoc{Claim: claim, TenantID: b.TenantID}
		var held []hookrun.SourceBinding
		snap, err := tx.Get(ref)
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			if d, held, err = decodeSourceClaim(snap); err != nil {
				return err
			}
		}
		if err := hookrun.CheckNewSourceBinding(held, b); err != nil {
			return err
		}
		d.Bindings = append(d.Bindings, toSourceBindingDoc(b))
		return tx.Set(ref, d)
	})
	return coded(err, fmt.Sprintf("source binding %q", b.ID))
}

// tenantSourceClaims returns the claims a tenant holds, with their
// bindings.
func (s *Store) tenantSourceClaims(ctx context.Context, tenantID string) ([]*fs.DocumentSnapshot, error) {
	snaps, err := s.sourceClaims().Where("tenant_id", "==", tenantID).Limit(hookrun.MaxSourceBindings * 2).Documents(ctx).GetAll()
	if err != nil {
		return nil, coded(err, fmt.Sprintf("source bindings of tenant %q", tenantID))
	}
	return snaps, nil
}

// ListSourceBindings returns a tenant's source bindings, oldest first.
func (s *Store) ListSourceBindings(ctx context.Context, tenantID string) ([]hookrun.SourceBinding, error) {
	snaps, err := s.tenantSourceClaims(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []hookrun.SourceBinding
	for _, snap := range snaps {
		_, bs, err := decodeSourceClaim(snap)
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
	}
	slices.SortFunc(out, func(a, b hookrun.SourceBinding) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// DeleteSourceBinding deletes a tenant's source binding, and its claim
// with its last binding; a missing one is CodeNotFound.
func (s *Store) DeleteSourceBinding(ctx context.Context, tenantID, id string) error {
	notFound := hookrun.Errorf(hookrun.CodeNotFound, "source binding %q not found", id)
	snaps, err := s.tenantSourceClaims(ctx, tenantID)
	if err != nil {
		return err
	}
	var ref *fs.DocumentRef
	for _, snap := range snaps {
		_, bs, err := decodeSourceClaim(snap)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(bs, func(b hookrun.SourceBinding) bool { return b.ID == id }) {
			ref = snap.Ref
		}
	}
	if ref == nil {
		return notFound
	}
	err = s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		snap, err := tx.Get(ref)
		if status.Code(err) == codes.NotFound {
			return notFound
		}
		if err != nil {
			return err
		}
		d, _, err := decodeSourceClaim(snap)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(d.Bindings, func(b sourceBindingDoc) bool { return b.ID == id })
		switch {
		case i < 0 || d.TenantID != tenantID:
			return notFound // deleted meanwhile
		case len(d.Bindings) == 1:
			return tx.Delete(ref)
		}
		d.Bindings = slices.Delete(d.Bindings, i, i+1)
		return tx.Set(ref, d)
	})
	return coded(err, fmt.Sprintf("source binding %q", id))
}

// SourceBindings returns the bindings that hold a claim
// (hookrun.SourceMatch.Claim), all of one tenant; none is empty.
func (s *Store) SourceBindings(ctx context.Context, claim string) ([]hookrun.SourceBinding, error) {
	snap, err := s.sourceClaimRef(claim).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, coded(err, "source bindings of "+claim)
	}
	_, bs, err := decodeSourceClaim(snap)
	return bs, err
}
