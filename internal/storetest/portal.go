package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// A portal link is stored by its hash and claimed once: the claim returns
// it as it was, so only the first open sees it unused.
func testPortalLinks(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	_, l, err := hookrun.NewPortalLink("acme", 0, Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePortalLink(ctx, l); err != nil {
		t.Fatalf("CreatePortalLink: %v", err)
	}
	WantCode(t, "CreatePortalLink(same hash)", s.CreatePortalLink(ctx, l), hookrun.CodeAlreadyExists)

	first, err := s.ClaimPortalLink(ctx, l.TokenHash)
	if err != nil {
		t.Fatalf("first ClaimPortalLink: %v", err)
	}
	if first.Used || first.TenantID != "acme" || !first.ExpireTime.Equal(l.ExpireTime) || first.TokenHash != l.TokenHash {
		t.Errorf("first claim = %v, want the link as created, unused", first)
	}
	second, err := s.ClaimPortalLink(ctx, l.TokenHash)
	if err != nil {
		t.Fatalf("second ClaimPortalLink: %v", err)
	}
	if !second.Used || second.TenantID != "acme" {
		t.Errorf("second claim = %v, want it used", second)
	}
	_, err = s.ClaimPortalLink(ctx, hookrun.HashPortalToken("hkp_unknown"))
	WantCode(t, "ClaimPortalLink(unknown)", err, hookrun.CodeNotFound)
}

// Of concurrent claims of one link, exactly one sees it unused: two opens
// of one link start one session.
func testPortalLinkClaimConcurrent(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	_, l, err := hookrun.NewPortalLink("acme", hookrun.Duration(time.Hour), Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePortalLink(ctx, l); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		unused int
	)
	for range n {
		wg.Go(func() {
			got, err := s.ClaimPortalLink(ctx, l.TokenHash)
			if err != nil {
				t.Errorf("ClaimPortalLink: %v", err)
				return
			}
			if !got.Used {
				mu.Lock()
				unused++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if unused != 1 {
		t.Errorf("%d of %d concurrent claims saw the link unused, want 1", unused, n)
	}
}
