package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// claimedIDs lists the deliveries a replay chain claimed, sorted.
func claimedIDs(t *testing.T, s Store, chain string) []string {
	t.Helper()
	var ids []string
	err := s.EachReplayClaim(t.Context(), "acme", chain, func(d hookrun.Delivery) error {
		if d.ReplayChain != chain || d.AttemptLog != nil {
			t.Errorf("EachReplayClaim(%s) visited %+v; want its claims without attempts", chain, d)
		}
		ids = append(ids, hookrun.DeliveryID(d.EventID, d.EndpointID))
		return nil
	})
	if err != nil {
		t.Fatalf("EachReplayClaim: %v", err)
	}
	return sortedCopy(ids)
}

func testClaimDeadLettersByFilter(t *testing.T, open Opener) {
	tests := []struct {
		name string
		f    func(fx deadLetterFixture) hookrun.DeadLetterFilter
		keep []string // nil: all of acme's
	}{
		{"all", func(deadLetterFixture) hookrun.DeadLetterFilter { return hookrun.DeadLetterFilter{} }, nil},
		{"by endpoint", func(deadLetterFixture) hookrun.DeadLetterFilter { return hookrun.DeadLetterFilter{EndpointID: "ep_b"} },
			[]string{"dl2:ep_b", "dl5:ep_b", "dl7:ep_b"}},
		{"by type in a time range", func(fx deadLetterFixture) hookrun.DeadLetterFilter {
			return hookrun.DeadLetterFilter{EventType: "invoice.paid", Since: fx.t0.Add(3 * time.Minute), Until: fx.t0.Add(6 * time.Minute)}
		}, []string{"dl5:ep_b", "dl6:ep_a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open.store(t)
			fx := seedDeadLetters(t, s)
			want := fx.newest
			if tt.keep != nil {
				want = only(fx.newest, tt.keep...)
			}
			got, err := s.ClaimDeadLetters(t.Context(), "acme", tt.f(fx), "rp_1", 100, nil)
			if err != nil {
				t.Fatalf("ClaimDeadLetters: %v", err)
			}
			if got != (hookrun.ReplayClaims{Claimed: int64(len(want))}) {
				t.Errorf("ClaimDeadLetters = %+v; want %d claimed, none skipped", got, len(want))
			}
			if ids := claimedIDs(t, s, "rp_1"); !slices.Equal(ids, sortedCopy(want)) {
				t.Errorf("claimed %v; want %v", ids, want)
			}
			// The claim hides nothing: they are still dead letters.
			if got, _, err := s.ListDeadLetters(t.Context(), "acme", hookrun.DeadLetterFilter{}, 50, ""); err != nil || len(got) != 7 {
				t.Errorf("ListDeadLetters after the claim = %d, %v; want 7", len(got), err)
			}
		})
	}
}

func testClaimDeadLettersLimitAndEligible(t *testing.T, open Opener) {
	s := open.store(t)
	seedDeadLetters(t, s)
	ctx := t.Context()
	onlyA := func(d hookrun.Delivery) bool { return d.EndpointID == "ep_a" }

	got, err := s.ClaimDeadLetters(ctx, "acme", hookrun.DeadLetterFilter{}, "rp_1", 2, onlyA)
	if err != nil {
		t.Fatalf("ClaimDeadLetters: %v", err)
	}
	if got.Claimed != 2 || !got.More {
		t.Errorf("ClaimDeadLetters(limit 2) = %+v; want 2 claimed and more", got)
	}
	got, err = s.ClaimDeadLetters(ctx, "acme", hookrun.DeadLetterFilter{}, "rp_2", 100, onlyA)
	if err != nil {
		t.Fatalf("ClaimDeadLetters: %v", err)
	}
	// ep_a has 4 dead letters, 2 held by rp_1; ep_b's 3 are not eligible.
	if got != (hookrun.ReplayClaims{Claimed: 2, Skipped: 5}) {
		t.Errorf("second ClaimDeadLetters = %+v; want 2 claimed, 5 skipped", got)
	}
}

// Replays racing for the same dead letters: each is claimed by exactly
// one, and the counts of all of them add up.
func testClaimDeadLettersConcurrent(t *testing.T, open Opener) {
	s := open.store(t)
	fx := seedDeadLetters(t, s)
	const replays = 4
	var wg sync.WaitGroup
	results := make([]hookrun.ReplayClaims, replays)
	for i := range replays {
		wg.Go(func() {
			got, err := s.ClaimDeadLetters(t.Context(), "acme", hookrun.DeadLetterFilter{}, fmt.Sprintf("rp_%d", i), 100, nil)
			if err != nil {
				t.Errorf("ClaimDeadLetters %d: %v", i, err)
			}
			results[i] = got
		})
	}
	wg.Wait()
	var claimed []string
	var sum int64
	for i, r := range results {
		if r.Claimed+r.Skipped != 7 {
			t.Errorf("replay %d: %+v; want claimed + skipped = 7", i, r)
		}
		sum += r.Claimed
		claimed = append(claimed, claimedIDs(t, s, fmt.Sprintf("rp_%d", i))...)
	}
	if sum != 7 || !slices.Equal(sortedCopy(claimed), sortedCopy(fx.newest)) {
		t.Errorf("claims %v (counts summing to %d); want each of the 7 dead letters claimed once", claimed, sum)
	}
}

func testClaimDeadLetter(t *testing.T, open Opener) {
	s := open.store(t)
	seedDeadLetters(t, s)
	ctx := t.Context()

	WantCode(t, "ClaimDeadLetter(retrying)", s.ClaimDeadLetter(ctx, "acme", "live1", "ep_a", "rp_x"), hookrun.CodeFailedPrecondition)
	WantCode(t, "ClaimDeadLetter(succeeded)", s.ClaimDeadLetter(ctx, "acme", "live2", "ep_b", "rp_x"), hookrun.CodeFailedPrecondition)
	WantCode(t, "ClaimDeadLetter(missing)", s.ClaimDeadLetter(ctx, "acme", "nope", "ep_a", "rp_x"), hookrun.CodeNotFound)

	// Five replays of one dead letter at once: one claim.
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Go(func() { errs[i] = s.ClaimDeadLetter(ctx, "acme", "dl1", "ep_a", fmt.Sprintf("rp_%d", i)) })
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case hookrun.ErrorCode(err) == hookrun.CodeFailedPrecondition:
		default:
			t.Errorf("claim %d: %v; want nil or FAILED_PRECONDITION", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of 5 concurrent claims won (%v); want exactly 1", won, errs)
	}
	holder := getDelivery(t, s, "dl1", "ep_a").ReplayChain

	// Released (its message could not be published), it can be claimed
	// again at once.
	if err := s.ReleaseReplay(ctx, "acme", holder); err != nil {
		t.Fatalf("ReleaseReplay: %v", err)
	}
	if err := s.ClaimDeadLetter(ctx, "acme", "dl1", "ep_a", "rp_again"); err != nil {
		t.Errorf("ClaimDeadLetter after ReleaseReplay: %v", err)
	}
}

func testStartReplay(t *testing.T, open Opener) {
	s := open.store(t)
	seedDeadLetters(t, s)
	ctx := t.Context()
	start := func(chain string) bool {
		t.Helper()
		ok, err := s.StartReplay(ctx, "acme", "dl1", "ep_a", chain)
		if err != nil {
			t.Fatalf("StartReplay(%s): %v", chain, err)
		}
		return ok
	}

	if start("rp_1") {
		t.Error("StartReplay without a claim started")
	}
	if err := s.ClaimDeadLetter(ctx, "acme", "dl1", "ep_a", "rp_1"); err != nil {
		t.Fatalf("ClaimDeadLetter: %v", err)
	}
	if start("rp_other") {
		t.Error("StartReplay of a chain that holds no claim started")
	}
	if !start("rp_1") {
		t.Fatal("StartReplay of the claiming chain did not start")
	}
	d := getDelivery(t, s, "dl1", "ep_a")
	if d.State != hookrun.DeliveryPending || d.Chain != "rp_1" || d.ChainAttempts != 0 || d.DeadReason != "" || len(d.AttemptLog) != 1 {
		t.Errorf("started delivery = %+v; want pending in rp_1 with no attempt in it, its history kept", d)
	}
	if start("rp_1") {
		t.Error("StartReplay started the same chain twice")
	}
	WantCode(t, "ClaimDeadLetter(started)", s.ClaimDeadLetter(ctx, "acme", "dl1", "ep_a", "rp_2"), hookrun.CodeFailedPrecondition)
	// Release leaves a started chain alone.
	if err := s.ReleaseReplay(ctx, "acme", "rp_1"); err != nil {
		t.Fatalf("ReleaseReplay: %v", err)
	}
	if d := getDelivery(t, s, "dl1", "ep_a"); d.State != hookrun.DeliveryPending || d.ReplayChain != "rp_1" {
		t.Errorf("after ReleaseReplay of a started chain: %+v; want it untouched", d)
	}
}

// A claim whose replay never started lapses: another replay may take the
// dead letter, and the first one can then no longer start it.
func testReplayClaimLapses(t *testing.T, open Opener) {
	s, clk := open.storeWithClock(t)
	seedDeadLetters(t, s)
	ctx := t.Context()
	if err := s.ClaimDeadLetter(ctx, "acme", "dl1", "ep_a", "rp_1"); err != nil {
		t.Fatalf("ClaimDeadLetter: %v", err)
	}
	WantCode(t, "ClaimDeadLetter(held)", s.ClaimDeadLetter(ctx, "acme", "dl1", "ep_a", "rp_2"), hookrun.CodeFailedPrecondition)
	clk.set(func() time.Time { return time.Now().Add(hookrun.ReplayClaimTTL + time.Minute) })
	if err := s.ClaimDeadLetter(ctx, "acme", "dl1", "ep_a", "rp_2"); err != nil {
		t.Fatalf("ClaimDeadLetter after the claim lapsed: %v", err)
	}
	if ok, err := s.StartReplay(ctx, "acme", "dl1", "ep_a", "rp_1"); ok || err != nil {
		t.Errorf("StartReplay of the lapsed claim = %v, %v; want false", ok, err)
	}
	if ok, err := s.StartReplay(ctx, "acme", "dl1", "ep_a", "rp_2"); !ok || err != nil {
		t.Errorf("StartReplay of the live claim = %v, %v; want true", ok, err)
	}
}
