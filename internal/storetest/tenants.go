package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// createTenant stores an active tenant with one key and returns the key.
func createTenant(t *testing.T, s Store, id string, created time.Time) hookrun.APIKey {
	t.Helper()
	tn, err := hookrun.NewTenant(id, "Tenant "+id, created)
	if err != nil {
		t.Fatal(err)
	}
	_, k, err := hookrun.NewTenantAPIKey(id, "first", created)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTenantWithKey(t.Context(), tn, k); err != nil {
		t.Fatalf("CreateTenantWithKey(%s): %v", id, err)
	}
	return k
}

func sameKey(a, b hookrun.APIKey) bool {
	return a.ID == b.ID && a.TenantID == b.TenantID && a.Name == b.Name && a.Prefix == b.Prefix && a.Last4 == b.Last4 &&
		a.CreatedAt.Equal(b.CreatedAt) && a.Revoked == b.Revoked && a.RevokedAt.Equal(b.RevokedAt) && a.Hash == b.Hash
}

func keyIDs(ks []hookrun.APIKey) []string {
	return idsOf(ks, func(k hookrun.APIKey) string { return k.ID })
}

// idsOf returns the ID of each of xs, in order.
func idsOf[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func testAPIKeys(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	t0 := Now()
	first := createTenant(t, s, "acme", t0)
	other := createTenant(t, s, "globex", t0)

	if id, err := s.TenantForKey(ctx, first.Hash); err != nil || id != "acme" {
		t.Errorf("TenantForKey(first key) = %q, %v; want acme", id, err)
	}
	_, second, _ := hookrun.NewTenantAPIKey("acme", "", t0.Add(time.Second))
	if err := s.CreateAPIKey(ctx, second); err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	keys, err := s.ListAPIKeys(ctx, "acme")
	if err != nil {
		t.Fatalf("ListAPIKeys: %v", err)
	}
	if len(keys) != 2 || !sameKey(keys[0], first) || !sameKey(keys[1], second) {
		t.Errorf("ListAPIKeys = %+v\nwant oldest first %+v, %+v", keys, first, second)
	}

	// Revoking shuts the key out at once and keeps it listed.
	at := Now().Add(time.Minute)
	got, err := s.RevokeAPIKey(ctx, "acme", first.ID, at)
	if err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	if !got.Revoked || !got.RevokedAt.Equal(at) || got.Hash != first.Hash {
		t.Errorf("RevokeAPIKey = %+v, want revoked at %v with the key's hash", got, at)
	}
	_, err = s.TenantForKey(ctx, first.Hash)
	WantCode(t, "TenantForKey(revoked key)", err, hookrun.CodeNotFound)
	if id, err := s.TenantForKey(ctx, second.Hash); err != nil || id != "acme" {
		t.Errorf("TenantForKey(second key) = %q, %v; want acme", id, err)
	}
	// Revoking again changes nothing, the first revoke time stays.
	if again, err := s.RevokeAPIKey(ctx, "acme", first.ID, at.Add(time.Hour)); err != nil || !again.RevokedAt.Equal(at) {
		t.Errorf("RevokeAPIKey again = %+v, %v; want the first revoke time %v", again, err, at)
	}
	keys, _ = s.ListAPIKeys(ctx, "acme")
	if len(keys) != 2 || !keys[0].Revoked || !keys[0].RevokedAt.Equal(at) || keys[1].Revoked {
		t.Errorf("after revoke, ListAPIKeys = %+v; want the first revoked, the second not", keys)
	}

	// A tenant reaches only its own keys.
	_, err = s.RevokeAPIKey(ctx, "acme", other.ID, at)
	WantCode(t, "RevokeAPIKey(another tenant's key)", err, hookrun.CodeNotFound)
	if id, err := s.TenantForKey(ctx, other.Hash); err != nil || id != "globex" {
		t.Errorf("globex key after acme tried to revoke it: %q, %v; want globex", id, err)
	}
	_, err = s.RevokeAPIKey(ctx, "acme", hookrun.NewID(hookrun.APIKeyIDPrefix), at)
	WantCode(t, "RevokeAPIKey(unknown id)", err, hookrun.CodeNotFound)
	if ks, err := s.ListAPIKeys(ctx, "globex"); err != nil || !slices.Equal(keyIDs(ks), []string{other.ID}) {
		t.Errorf("ListAPIKeys(globex) = %v, %v; want only its own key", keyIDs(ks), err)
	}

	_, orphan, _ := hookrun.NewTenantAPIKey("initech", "", t0)
	WantCode(t, "CreateAPIKey(missing tenant)", s.CreateAPIKey(ctx, orphan), hookrun.CodeNotFound)
	_, err = s.TenantForKey(ctx, orphan.Hash)
	WantCode(t, "TenantForKey(key refused for a missing tenant)", err, hookrun.CodeNotFound)
}

// The tenant created from a bare hash (seeding) still gets a key ID.
func testCreateTenantFromHash(t *testing.T, open Opener) {
	s := open.store(t)
	_, hash := hookrun.NewAPIKey()
	if err := s.CreateTenant(t.Context(), hookrun.Tenant{ID: "acme", Name: "Acme", Status: hookrun.TenantActive, CreatedAt: Now()}, hash); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	keys, err := s.ListAPIKeys(t.Context(), "acme")
	if err != nil || len(keys) != 1 || !hookrun.ValidAPIKeyID(keys[0].ID) || keys[0].Hash != hash {
		t.Errorf("ListAPIKeys = %+v, %v; want one key with an id and the hash", keys, err)
	}
}

func testUpdateTenant(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	t0 := Now()
	createTenant(t, s, "acme", t0)
	t1 := Now().Add(time.Minute)

	name, disabled, reason := "Acme Corp", hookrun.TenantDisabled, "unpaid invoice"
	policy := hookrun.RetryPolicy{MaxAttempts: 5, InitialDelay: hookrun.Duration(time.Minute)}
	u := hookrun.TenantUpdate{Name: &name, Status: &disabled, DisabledReason: &reason, RetryPolicy: &policy}
	got, err := s.UpdateTenant(ctx, "acme", func(tn hookrun.Tenant) (hookrun.Tenant, error) { return tn.Apply(u, t1) })
	if err != nil {
		t.Fatalf("UpdateTenant: %v", err)
	}
	stored, err := s.GetTenant(ctx, "acme")
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	for _, tn := range []hookrun.Tenant{got, stored} {
		if tn.ID != "acme" || tn.Name != name || tn.Status != disabled || tn.DisabledReason != reason || tn.RetryPolicy != policy ||
			!tn.CreatedAt.Equal(t0) || !tn.UpdatedAt.Equal(t1) {
			t.Errorf("tenant = %+v, want the update applied at %v, created %v", tn, t1, t0)
		}
	}

	// An error from apply comes back as it is, and nothing is written.
	_, err = s.UpdateTenant(ctx, "acme", func(tn hookrun.Tenant) (hookrun.Tenant, error) {
		return tn.Apply(hookrun.TenantUpdate{}, t1)
	})
	WantCode(t, "UpdateTenant(empty update)", err, hookrun.CodeInvalidArgument)
	_, err = s.UpdateTenant(ctx, "initech", func(tn hookrun.Tenant) (hookrun.Tenant, error) { return tn, nil })
	WantCode(t, "UpdateTenant(missing)", err, hookrun.CodeNotFound)

	// Marking for deletion keeps the first start time.
	t2 := t1.Add(time.Minute)
	for _, at := range []time.Time{t2, t2.Add(time.Hour)} {
		got, err := s.UpdateTenant(ctx, "acme", func(tn hookrun.Tenant) (hookrun.Tenant, error) { return tn.MarkDeleting(at), nil })
		if err != nil || got.Status != hookrun.TenantDeleting || !got.DeleteRequestedAt.Equal(t2) {
			t.Errorf("mark deleting at %v = %+v, %v; want deleting since %v", at, got, err, t2)
		}
	}
	if got, _ := s.GetTenant(ctx, "acme"); got.Status != hookrun.TenantDeleting || !got.DeleteRequestedAt.Equal(t2) {
		t.Errorf("stored tenant = %+v, want deleting since %v", got, t2)
	}
	_, err = s.UpdateTenant(ctx, "acme", func(tn hookrun.Tenant) (hookrun.Tenant, error) { return tn.Apply(u, t2) })
	WantCode(t, "UpdateTenant(deleting)", err, hookrun.CodeFailedPrecondition)
	_, k, _ := hookrun.NewTenantAPIKey("acme", "", t2)
	WantCode(t, "CreateAPIKey(deleting tenant)", s.CreateAPIKey(ctx, k), hookrun.CodeFailedPrecondition)
}

func testListTenantsPages(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	ids := []string{"delta", "acme", "echo", "bravo", "charlie"}
	for _, id := range ids {
		createTenant(t, s, id, Now())
	}
	var got [][]string
	token := ""
	for range len(ids) + 1 {
		ts, next, err := s.ListTenants(ctx, 2, token)
		if err != nil {
			t.Fatalf("ListTenants(token %q): %v", token, err)
		}
		var pg []string
		for _, tn := range ts {
			pg = append(pg, tn.ID)
			if tn.Name != "Tenant "+tn.ID || tn.Status != hookrun.TenantActive {
				t.Errorf("listed tenant %+v, want it as created", tn)
			}
		}
		got = append(got, pg)
		if token = next; token == "" {
			break
		}
	}
	want := [][]string{{"acme", "bravo"}, {"charlie", "delta"}, {"echo"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pages = %v, want %v", got, want)
	}
	if all, next, err := s.ListTenants(ctx, 10, ""); err != nil || len(all) != 5 || next != "" {
		t.Errorf("ListTenants(10) = %d tenants, next %q, %v; want 5 and no next page", len(all), next, err)
	}
	_, _, err := s.ListTenants(ctx, 2, "not-a-token")
	WantCode(t, "ListTenants(bad token)", err, hookrun.CodeInvalidArgument)
}

// maxSeeded bounds seedTenantData's n.
const maxSeeded = 5

// seedTenantData gives tenant id a second key, endpoints, events,
// deliveries and rejected messages, n of each, and returns how many
// documents it has in all (its own document not counted).
func seedTenantData(t *testing.T, s Store, id string, n int) int {
	t.Helper()
	if n > maxSeeded {
		t.Fatalf("seedTenantData(%d): tenantLeft counts up to %d", n, maxSeeded)
	}
	ctx := t.Context()
	createTenant(t, s, id, Now())
	_, k, _ := hookrun.NewTenantAPIKey(id, "second", Now())
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	b, err := hookrun.NewSourceBinding(id, hookrun.SourceMatch{Storage: &hookrun.StorageMatch{Bucket: id + "-uploads"}}, "", "", Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSourceBinding(ctx, b); err != nil {
		t.Fatalf("CreateSourceBinding: %v", err)
	}
	for i := range n {
		ep := newEndpoint(t, id, fmt.Sprintf("https://%d.example.com/", i), Now(), "*")
		if err := s.CreateEndpoint(ctx, ep); err != nil {
			t.Fatalf("CreateEndpoint: %v", err)
		}
		e := hookrun.Event{ID: fmt.Sprintf("evt-%d", i), TenantID: id, Type: "user.created", Data: []byte(`{}`), Source: hookrun.SourcePubSub, ReceivedAt: Now()}
		if err := s.SaveEvent(ctx, e, fmt.Sprintf("m-%d", i)); err != nil {
			t.Fatalf("SaveEvent: %v", err)
		}
		d := hookrun.Delivery{TenantID: id, EventID: e.ID, EndpointID: ep.ID, EventType: e.Type, State: hookrun.DeliveryRetrying, Chain: "c"}
		record(t, s, d, failedAttempt(1, "c", Now()))
		m := hookrun.RejectedMessage{MessageID: fmt.Sprintf("%s-rej-%d", id, i), Reason: "r", TenantID: id, RejectedAt: Now()}
		if err := s.RecordRejected(ctx, m); err != nil {
			t.Fatalf("RecordRejected: %v", err)
		}
	}
	// The tenant, its key and source binding, each round's four records,
	// and the version of its endpoint list once it has one.
	return 3 + 4*n + min(n, 1)
}

func markDeleting(t *testing.T, s Store, id string) {
	t.Helper()
	if _, err := s.UpdateTenant(t.Context(), id, func(tn hookrun.Tenant) (hookrun.Tenant, error) { return tn.MarkDeleting(Now()), nil }); err != nil {
		t.Fatalf("mark %s deleting: %v", id, err)
	}
}

// tenantLeft counts what remains of tenant id, its document included.
func tenantLeft(t *testing.T, s Store, tenantID string) int {
	t.Helper()
	ctx := t.Context()
	n := 0
	if _, err := s.GetTenant(ctx, tenantID); err == nil {
		n++
	}
	keys, err := s.ListAPIKeys(ctx, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	eps, err := s.ListEndpoints(ctx, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	rejected, _, err := s.ListRejected(ctx, tenantID, 500, "")
	if err != nil {
		t.Fatal(err)
	}
	sources, err := s.ListSourceBindings(ctx, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	n += len(keys) + len(eps) + len(rejected) + len(sources)
	if v, err := s.EndpointsChanged(ctx, tenantID); err != nil {
		t.Fatal(err)
	} else if v != (hookrun.EndpointsVersion{}) {
		n++
	}
	// seedTenantData's events and their deliveries; an event may be gone
	// before its deliveries.
	for i := range maxSeeded {
		id := fmt.Sprintf("evt-%d", i)
		if _, err := s.GetEvent(ctx, tenantID, id); err == nil {
			n++
		} else if hookrun.ErrorCode(err) != hookrun.CodeNotFound {
			t.Fatal(err)
		}
		ds, err := s.ListEventDeliveries(ctx, tenantID, id)
		if err != nil {
			t.Fatal(err)
		}
		n += len(ds)
	}
	return n
}

func testDeleteTenantData(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	total := seedTenantData(t, s, "acme", 3)
	otherTotal := seedTenantData(t, s, "globex", 2)
	keys, _ := s.ListAPIKeys(ctx, "acme")

	// Only a tenant marked deleting is deleted.
	_, _, err := s.DeleteTenantData(ctx, "acme", 0)
	WantCode(t, "DeleteTenantData(active tenant)", err, hookrun.CodeFailedPrecondition)
	if got := tenantLeft(t, s, "acme"); got != total+1 {
		t.Fatalf("after a refused delete, acme has %d documents, want %d", got, total+1)
	}

	markDeleting(t, s, "acme")
	// A small budget makes progress on every call until the end.
	const budget = 4
	calls, counted := 0, 0
	for done := false; !done; calls++ {
		if calls > total {
			t.Fatalf("not done after %d calls", calls)
		}
		before := tenantLeft(t, s, "acme")
		var n int
		if n, done, err = s.DeleteTenantData(ctx, "acme", budget); err != nil {
			t.Fatalf("DeleteTenantData call %d: %v", calls+1, err)
		}
		after := tenantLeft(t, s, "acme")
		if !done && (after >= before || before-after > budget) {
			t.Errorf("call %d deleted %d documents, want 1 to %d", calls+1, before-after, budget)
		}
		if n != before-after {
			t.Errorf("call %d says it deleted %d documents, %d are gone", calls+1, n, before-after)
		}
		counted += n
		if calls == 0 {
			// Keys go first, so the tenant's callers are shut out at once.
			for _, k := range keys {
				if _, err := s.TenantForKey(ctx, k.Hash); hookrun.ErrorCode(err) != hookrun.CodeNotFound {
					t.Errorf("after the first call, key %s: %v, want not found", k.ID, err)
				}
			}
		}
	}
	if want := (total + budget - 1) / budget; calls != want && calls != want+1 {
		t.Errorf("took %d calls of %d for %d documents, want %d or %d", calls, budget, total, want, want+1)
	}
	if got := tenantLeft(t, s, "acme"); got != 0 {
		t.Errorf("acme has %d documents left, want 0", got)
	}
	if counted != total+1 {
		t.Errorf("the calls counted %d deleted documents, want %d with the tenant's own", counted, total+1)
	}
	_, err = s.GetTenant(ctx, "acme")
	WantCode(t, "GetTenant(deleted)", err, hookrun.CodeNotFound)
	// Repeating a finished deletion is done at once.
	if n, done, err := s.DeleteTenantData(ctx, "acme", budget); !done || err != nil || n != 0 {
		t.Errorf("DeleteTenantData(gone) = %d, %v, %v; want done, nothing deleted", n, done, err)
	}
	if got := tenantLeft(t, s, "globex"); got != otherTotal+1 {
		t.Errorf("globex has %d documents, want its %d untouched", got, otherTotal+1)
	}
}

// A budget that covers everything finishes in one call, even when it is
// used up exactly; no budget deletes all.
func testDeleteTenantDataInOneCall(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name  string
		limit func(total int) int
	}{
		{"exact budget", func(total int) int { return total }},
		{"larger budget", func(total int) int { return total + 10 }},
		{"no budget", func(int) int { return 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open.store(t)
			total := seedTenantData(t, s, "acme", 2)
			markDeleting(t, s, "acme")
			n, done, err := s.DeleteTenantData(t.Context(), "acme", tc.limit(total))
			if !done || err != nil || n != total+1 {
				t.Fatalf("DeleteTenantData = %d, %v, %v; want done, %d deleted", n, done, err, total+1)
			}
			if got := tenantLeft(t, s, "acme"); got != 0 {
				t.Errorf("acme has %d documents left, want 0", got)
			}
		})
	}
}

func testTenantLimits(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	t0 := Now()
	tn, err := hookrun.NewTenant("acme", "Acme", t0)
	if err != nil {
		t.Fatal(err)
	}
	tn.Limits = hookrun.TenantLimits{MaxEndpoints: 5, MaxEventsPerSecond: 20}
	_, k, _ := hookrun.NewTenantAPIKey("acme", "", t0)
	if err := s.CreateTenantWithKey(ctx, tn, k); err != nil {
		t.Fatalf("CreateTenantWithKey: %v", err)
	}
	if got, err := s.GetTenant(ctx, "acme"); err != nil || got.Limits != tn.Limits {
		t.Errorf("GetTenant = %+v, %v; want limits %+v", got, err, tn.Limits)
	}

	// Replaced as a whole, then lifted; each time read back as written.
	for _, want := range []hookrun.TenantLimits{{MaxEventsPerSecond: 1}, {MaxEndpoints: 10_000}, {}} {
		u := hookrun.TenantUpdate{Limits: &want}
		got, err := s.UpdateTenant(ctx, "acme", func(tn hookrun.Tenant) (hookrun.Tenant, error) { return tn.Apply(u, Now()) })
		if err != nil || got.Limits != want {
			t.Fatalf("UpdateTenant(limits %+v) = %+v, %v", want, got, err)
		}
		if stored, err := s.GetTenant(ctx, "acme"); err != nil || stored.Limits != want || stored.Name != "Acme" {
			t.Errorf("stored tenant = %+v, %v; want limits %+v and the rest kept", stored, err, want)
		}
	}
}

func testCountEndpoints(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	t0 := Now()
	if n, err := s.CountEndpoints(ctx, "acme"); err != nil || n != 0 {
		t.Errorf("CountEndpoints before any = %d, %v; want 0", n, err)
	}
	var eps []hookrun.Endpoint
	for i := range 3 {
		eps = append(eps, newEndpoint(t, "acme", fmt.Sprintf("https://%d.example.com/", i), t0, "*"))
	}
	for _, ep := range append(eps, newEndpoint(t, "globex", "https://globex.example.com/", t0, "*")) {
		if err := s.CreateEndpoint(ctx, ep); err != nil {
			t.Fatalf("CreateEndpoint(%s): %v", ep.URL, err)
		}
	}
	if n, err := s.CountEndpoints(ctx, "acme"); err != nil || n != 3 {
		t.Errorf("CountEndpoints = %d, %v; want acme's 3", n, err)
	}
	if err := s.DeleteEndpoint(ctx, "acme", eps[0].ID); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountEndpoints(ctx, "acme"); err != nil || n != 2 {
		t.Errorf("CountEndpoints after a delete = %d, %v; want 2", n, err)
	}
}

// The record of a tenant's deletion is created by its first update, adds
// up concurrent steps, and outlives the tenant.
func testTenantDeletionRecord(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	_, err := s.GetTenantDeletion(ctx, "acme")
	WantCode(t, "GetTenantDeletion(never deleted)", err, hookrun.CodeNotFound)

	total := seedTenantData(t, s, "acme", 2)
	markDeleting(t, s, "acme")
	t0 := Now()
	if _, err := s.UpdateTenantDeletion(ctx, "acme", func(d hookrun.TenantDeletion) hookrun.TenantDeletion {
		if !d.StartedAt.IsZero() {
			t.Errorf("first update got %+v, want the zero record", d)
		}
		return d.Resumed("acme", t0)
	}); err != nil {
		t.Fatalf("UpdateTenantDeletion: %v", err)
	}
	// Two steps at once both count.
	var g sync.WaitGroup
	for range 2 {
		g.Go(func() {
			if _, err := s.UpdateTenantDeletion(ctx, "acme", func(d hookrun.TenantDeletion) hookrun.TenantDeletion { return d.Progressed(3) }); err != nil {
				t.Errorf("UpdateTenantDeletion: %v", err)
			}
		})
	}
	g.Wait()
	if _, done, err := s.DeleteTenantData(ctx, "acme", 0); !done || err != nil {
		t.Fatalf("DeleteTenantData = %v, %v", done, err)
	}
	t1 := Now()
	if _, err := s.UpdateTenantDeletion(ctx, "acme", func(d hookrun.TenantDeletion) hookrun.TenantDeletion { return d.Finished(t1, "") }); err != nil {
		t.Fatalf("UpdateTenantDeletion: %v", err)
	}
	got, err := s.GetTenantDeletion(ctx, "acme")
	want := hookrun.TenantDeletion{TenantID: "acme", State: hookrun.DeletionDone, Deleted: 6, StartedAt: t0, EndedAt: t1}
	if err != nil || got != want {
		t.Errorf("after the tenant is gone: %+v, %v; want %+v", got, err, want)
	}
	_ = total
}
