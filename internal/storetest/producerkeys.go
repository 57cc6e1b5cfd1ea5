package storetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

func sameProducerKey(a, b hookrun.ProducerKey) bool {
	return a.ID == b.ID && a.Name == b.Name && slices.Equal(a.Tenants, b.Tenants) && (a.Tenants == nil) == (b.Tenants == nil) &&
		a.Prefix == b.Prefix && a.Last4 == b.Last4 && a.CreatedAt.Equal(b.CreatedAt) && a.Revoked == b.Revoked &&
		a.RevokedAt.Equal(b.RevokedAt) && a.Hash == b.Hash
}

func producerKeyIDs(ks []hookrun.ProducerKey) []string {
	return idsOf(ks, func(k hookrun.ProducerKey) string { return k.ID })
}

func testProducerKeys(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	t0 := Now()
	_, all, _ := hookrun.NewProducerKey("every tenant", nil, t0)
	_, some, _ := hookrun.NewProducerKey("some", []string{"acme", "globex"}, t0.Add(time.Second))
	for _, k := range []hookrun.ProducerKey{all, some} {
		if err := s.CreateProducerKey(ctx, k); err != nil {
			t.Fatalf("CreateProducerKey(%s): %v", k.Name, err)
		}
	}
	WantCode(t, "CreateProducerKey(same hash)", s.CreateProducerKey(ctx, all), hookrun.CodeAlreadyExists)

	for _, k := range []hookrun.ProducerKey{all, some} {
		got, err := s.ProducerKeyForHash(ctx, k.Hash)
		if err != nil || !sameProducerKey(got, k) {
			t.Errorf("ProducerKeyForHash(%s) = %+v, %v; want %+v", k.Name, got, err, k)
		}
		if got, err := s.GetProducerKey(ctx, k.ID); err != nil || !sameProducerKey(got, k) {
			t.Errorf("GetProducerKey(%s) = %+v, %v; want %+v", k.Name, got, err, k)
		}
	}
	_, unknownHash := hookrun.NewAPIKey()
	_, err := s.ProducerKeyForHash(ctx, unknownHash)
	WantCode(t, "ProducerKeyForHash(unknown)", err, hookrun.CodeNotFound)
	_, err = s.GetProducerKey(ctx, hookrun.NewID(hookrun.ProducerKeyIDPrefix))
	WantCode(t, "GetProducerKey(unknown)", err, hookrun.CodeNotFound)

	at := t0.Add(time.Hour)
	got, err := s.RevokeProducerKey(ctx, some.ID, at)
	if err != nil || !got.Revoked || !got.RevokedAt.Equal(at) || got.Hash != some.Hash {
		t.Errorf("RevokeProducerKey = %+v, %v; want revoked at %v with the key's hash", got, err, at)
	}
	_, err = s.ProducerKeyForHash(ctx, some.Hash)
	WantCode(t, "ProducerKeyForHash(revoked)", err, hookrun.CodeNotFound)
	if again, err := s.RevokeProducerKey(ctx, some.ID, at.Add(time.Hour)); err != nil || !again.RevokedAt.Equal(at) {
		t.Errorf("RevokeProducerKey again = %+v, %v; want the first revoke time %v", again, err, at)
	}
	if got, err := s.GetProducerKey(ctx, some.ID); err != nil || !got.Revoked {
		t.Errorf("GetProducerKey(revoked) = %+v, %v; want it, revoked", got, err)
	}
	_, err = s.RevokeProducerKey(ctx, hookrun.NewID(hookrun.ProducerKeyIDPrefix), at)
	WantCode(t, "RevokeProducerKey(unknown)", err, hookrun.CodeNotFound)

	// Producer keys belong to no tenant: a tenant's deletion leaves them.
	createTenant(t, s, "acme", t0)
	markDeleting(t, s, "acme")
	if _, _, err := s.DeleteTenantData(ctx, "acme", 0); err != nil {
		t.Fatalf("DeleteTenantData: %v", err)
	}
	if _, err := s.ProducerKeyForHash(ctx, all.Hash); err != nil {
		t.Errorf("after a tenant's deletion, ProducerKeyForHash = %v", err)
	}
}

func testListProducerKeysPages(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	t0 := Now()
	var created []hookrun.ProducerKey
	for i := range 5 {
		// Two keys share each creation time: the hash breaks the tie.
		_, k, _ := hookrun.NewProducerKey("", nil, t0.Add(time.Duration(i/2)*time.Second))
		if err := s.CreateProducerKey(ctx, k); err != nil {
			t.Fatalf("CreateProducerKey: %v", err)
		}
		created = append(created, k)
	}
	slices.SortFunc(created, func(a, b hookrun.ProducerKey) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.Hash, a.Hash))
	})
	var got []string
	token := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("ListProducerKeys does not end")
		}
		ks, next, err := s.ListProducerKeys(ctx, 2, token)
		if err != nil {
			t.Fatalf("ListProducerKeys: %v", err)
		}
		if len(ks) > 2 {
			t.Fatalf("page of %d keys, want at most 2", len(ks))
		}
		got = append(got, producerKeyIDs(ks)...)
		if next == "" {
			break
		}
		token = next
	}
	if want := producerKeyIDs(created); !slices.Equal(got, want) {
		t.Errorf("ListProducerKeys pages = %v, want newest first, then by descending hash (Firestore's document ID): %v", got, want)
	}
	_, _, err := s.ListProducerKeys(ctx, 2, "not-a-token")
	WantCode(t, "ListProducerKeys(bad token)", err, hookrun.CodeInvalidArgument)
}
