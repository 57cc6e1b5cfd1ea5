package firestore

import (
	"context"
	"fmt"
	"time"

	fs "cloud.google.com/go/firestore"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// portalLinkDoc is portal_links/{sha256(token)}: a link into a tenant's
// portal. expire_time is the TTL field (infra/firestore.tf), so spent and
// unopened links go away on their own.
type portalLinkDoc struct {
	TenantID   string    `firestore:"tenant_id"`
	ExpireTime time.Time `firestore:"expire_time"`
	Used       bool      `firestore:"used"`
}

func (s *Store) portalLinkRef(tokenHash string) *fs.DocumentRef {
	return s.c.Collection("portal_links").Doc(tokenHash)
}

// CreatePortalLink stores a new portal link; a hash that exists is
// CodeAlreadyExists.
func (s *Store) CreatePortalLink(ctx context.Context, l hookrun.PortalLink) error {
	_, err := s.portalLinkRef(l.TokenHash).Create(ctx, portalLinkDoc{TenantID: l.TenantID, ExpireTime: l.ExpireTime, Used: l.Used})
	return coded(err, "portal link")
}

// ClaimPortalLink marks the link used and returns it as it was before, in
// a transaction: of concurrent claims, one sees Used false. A missing link
// is CodeNotFound.
func (s *Store) ClaimPortalLink(ctx context.Context, tokenHash string) (hookrun.PortalLink, error) {
	var out hookrun.PortalLink
	ref := s.portalLinkRef(tokenHash)
	err := s.c.RunTransaction(ctx, func(ctx context.Context, tx *fs.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		var d portalLinkDoc
		if err := snap.DataTo(&d); err != nil {
			return fmt.Errorf("decode portal link: %w", err)
		}
		out = hookrun.PortalLink{TokenHash: tokenHash, TenantID: d.TenantID, ExpireTime: d.ExpireTime, Used: d.Used}
		if d.Used {
			return nil
		}
		return tx.Update(ref, []fs.Update{{Path: "used", Value: true}})
	})
	if err != nil {
		return hookrun.PortalLink{}, coded(err, "portal link")
	}
	return out, nil
}
