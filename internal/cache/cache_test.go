package cache

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTTLCachesUntilExpiry(t *testing.T) {
	c := New[int](time.Minute, 10)
	now := time.Unix(0, 0)
	c.now = func() time.Time { return now }
	loads := 0
	load := func(context.Context) (int, error) { loads++; return loads, nil }

	for i := 0; i < 3; i++ {
		if v, _ := c.Get(context.Background(), "k", load); v != 1 {
			t.Fatalf("Get = %d, want cached 1", v)
		}
	}
	now = now.Add(time.Minute)
	if v, _ := c.Get(context.Background(), "k", load); v != 2 {
		t.Errorf("after expiry Get = %d, want reload 2", v)
	}
	c.Delete("k")
	if v, _ := c.Get(context.Background(), "k", load); v != 3 {
		t.Errorf("after Delete Get = %d, want reload 3", v)
	}
}

func TestTTLDoesNotCacheErrors(t *testing.T) {
	c := New[int](time.Minute, 10)
	fail := true
	load := func(context.Context) (int, error) {
		if fail {
			return 0, errors.New("boom")
		}
		return 7, nil
	}
	if _, err := c.Get(context.Background(), "k", load); err == nil {
		t.Fatal("error not returned")
	}
	fail = false
	if v, err := c.Get(context.Background(), "k", load); err != nil || v != 7 {
		t.Errorf("Get = %d, %v, want 7", v, err)
	}
}

func TestTTLSharesConcurrentLoads(t *testing.T) {
	c := New[int](time.Minute, 10)
	var loads atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (int, error) { loads.Add(1); <-release; return 1, nil }
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = c.Get(context.Background(), "k", load) }()
	}
	for loads.Load() == 0 {
		time.Sleep(time.Millisecond) // wait for the first loader to start
	}
	close(release)
	wg.Wait()
	if n := loads.Load(); n > 2 { // a goroutine may arrive after the first load ended
		t.Errorf("%d loads for 20 concurrent misses, want 1", n)
	}
}

func TestTTLIsBounded(t *testing.T) {
	c := New[int](time.Minute, 3)
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		_, _ = c.Get(context.Background(), k, func(context.Context) (int, error) { return 1, nil })
	}
	if n := len(c.entries); n > 3 {
		t.Errorf("cache holds %d entries, want at most 3", n)
	}
}

func TestGetFreshReloadsValuesOlderThanNotBefore(t *testing.T) {
	c := New[int](time.Hour, 10)
	now := time.Unix(100, 0)
	c.now = func() time.Time { return now }
	loads := 0
	load := func(context.Context) (int, error) { loads++; return loads, nil }

	if v, _ := c.GetFresh(context.Background(), "k", now, load); v != 1 {
		t.Fatalf("first GetFresh = %d, want 1", v)
	}
	// An event received before the load: the cached value will do.
	if v, _ := c.GetFresh(context.Background(), "k", now.Add(-time.Second), load); v != 1 {
		t.Errorf("GetFresh(older event) = %d, want cached 1", v)
	}
	// An event received after the load: the endpoint list may have changed.
	now = now.Add(time.Millisecond)
	if v, _ := c.GetFresh(context.Background(), "k", now, load); v != 2 {
		t.Errorf("GetFresh(newer event) = %d, want reload 2", v)
	}
}

// A notBefore still to come (a publisher's clock ahead of ours, or a
// forged receive time) is served by one load that starts now, not by
// reloading until that time comes.
func TestGetFreshWithAFutureNotBeforeLoadsOnce(t *testing.T) {
	c := New[int](time.Hour, 10)
	now := time.Unix(100, 0)
	c.now = func() time.Time { return now }
	loads := 0
	load := func(context.Context) (int, error) { loads++; return loads, nil }
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if v, err := c.GetFresh(ctx, "k", now.Add(time.Hour), load); v != 1 || err != nil || loads != 1 {
		t.Errorf("GetFresh(an hour ahead) = %d, %v after %d loads; want the one load made now", v, err, loads)
	}
}

// A caller stops waiting for a slow load when its own context ends (its
// request's deadline), while the load goes on for the callers still
// waiting and fills the cache.
func TestCallerLeavesASlowLoadAtItsDeadline(t *testing.T) {
	c := New[int](time.Minute, 10)
	release := make(chan struct{})
	loading := make(chan struct{})
	load := func(context.Context) (int, error) {
		close(loading)
		<-release // a dependency that hangs until released
		return 7, nil
	}

	patient := make(chan int)
	go func() {
		v, _ := c.Get(context.Background(), "k", load)
		patient <- v
	}()
	<-loading
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	impatient := make(chan error, 1)
	go func() { _, err := c.Get(ctx, "k", load); impatient <- err }()
	select {
	case err := <-impatient:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Get past its deadline = %v, want %v", err, context.DeadlineExceeded)
		}
	case <-time.After(5 * time.Second): // so that a failure cannot hang the test
		t.Errorf("Get still waiting 5 s after its deadline")
	}
	close(release)
	if v := <-patient; v != 7 {
		t.Errorf("the patient caller got %d, want the load's 7", v)
	}
	if v, err := c.Get(context.Background(), "k", load); v != 7 || err != nil {
		t.Errorf("Get after the load = %d, %v; want the cached 7", v, err)
	}
}

// A value too old for the caller is checked before it is loaded again:
// loaded only when the check finds it changed, and confirmed values count
// as loaded when their check started.
func TestGetCheckedLoadsOnlyWhatChanged(t *testing.T) {
	c := New[int](time.Minute, 10)
	now := time.Unix(0, 0)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	loads, checks, changed := 0, 0, false
	var checkErr error
	load := func(context.Context) (int, error) { loads++; return loads, nil }
	check := func(_ context.Context, v int) (bool, error) { checks++; return !changed, checkErr }
	get := func(notBefore time.Time) (int, error) { return c.GetChecked(ctx, "k", notBefore, check, load) }

	if v, _ := get(now); v != 1 || loads != 1 || checks != 0 {
		t.Fatalf("first get = %d after %d loads, %d checks; want 1 after 1 load, no check", v, loads, checks)
	}
	now = now.Add(time.Second)
	if v, _ := get(now); v != 1 || loads != 1 || checks != 1 {
		t.Errorf("unchanged = %d after %d loads, %d checks; want cached 1 after 1 check", v, loads, checks)
	}
	if v, _ := get(now); v != 1 || checks != 1 {
		t.Errorf("just checked = %d after %d checks; want 1 without another check", v, checks)
	}
	now = now.Add(2 * time.Minute) // expired: checked all the same
	if v, _ := get(time.Time{}); v != 1 || loads != 1 || checks != 2 {
		t.Errorf("expired, unchanged = %d after %d loads, %d checks; want 1 after a second check", v, loads, checks)
	}
	now = now.Add(time.Second)
	changed = true
	if v, _ := get(now); v != 2 || loads != 2 || checks != 3 {
		t.Errorf("changed = %d after %d loads, %d checks; want reload 2", v, loads, checks)
	}
	now = now.Add(time.Second)
	checkErr = errors.New("boom")
	if _, err := get(now); err == nil || loads != 2 {
		t.Errorf("failed check = %v after %d loads; want the error, no load", err, loads)
	}
}

// A value served from the cache that is older than refreshBefore is
// checked in the background, once for every caller meanwhile, and a
// later caller that needs a fresher value finds it confirmed without a
// check of its own.
func TestGetCheckedAheadRefreshesInTheBackground(t *testing.T) {
	c := New[int](time.Minute, 10)
	now := time.Unix(0, 0)
	c.now = func() time.Time { return now } // refreshes are waited for before now changes
	ctx := context.Background()
	var loads, checks atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (int, error) { return int(loads.Add(1)), nil }
	check := func(context.Context, int) (bool, error) { checks.Add(1); <-release; return true, nil }
	loaded := now
	if v, _ := c.GetChecked(ctx, "k", loaded, check, load); v != 1 {
		t.Fatalf("first get = %d, want 1", v)
	}

	now = now.Add(2 * time.Second)
	later := now
	for range 3 {
		// Served at once while the check hangs: no caller waits for it.
		if v, err := c.GetCheckedAhead(ctx, "k", loaded, later.Add(-time.Second), check, load); v != 1 || err != nil {
			t.Fatalf("get with a value to refresh = %d, %v; want the cached 1", v, err)
		}
	}
	close(release)
	waitForLoads(c, "k")
	if n := checks.Load(); n != 1 {
		t.Errorf("%d checks for 3 callers served a value to refresh, want 1 in the background", n)
	}

	// A caller that needs a value confirmed at the refresh finds it.
	now = now.Add(time.Second)
	if v, _ := c.GetCheckedAhead(ctx, "k", later, time.Time{}, check, load); v != 1 || checks.Load() != 1 || loads.Load() != 1 {
		t.Errorf("get fresh as of the refresh = %d after %d checks, %d loads; want 1 without another check", v, checks.Load(), loads.Load())
	}
}

// waitForLoads waits until no load of key is in flight: a test's way to
// wait for a refresh started in the background.
func waitForLoads[V any](c *TTL[V], key string) {
	_, _, _ = c.group.Do(key, func() (any, error) { return nil, nil })
}

// A refresh that finds the value changed loads it, in the background; a
// refresh that fails is no caller's error, and the next caller that
// needs a fresher value checks again.
func TestGetCheckedAheadLoadsChangesAndSurvivesFailures(t *testing.T) {
	c := New[int](time.Minute, 10)
	now := time.Unix(0, 0)
	c.now = func() time.Time { return now } // refreshes are waited for before now changes
	ctx := context.Background()
	var loads, checks atomic.Int32
	var current atomic.Bool
	var checkErr atomic.Pointer[error]
	load := func(context.Context) (int, error) { return int(loads.Add(1)), nil }
	check := func(context.Context, int) (bool, error) {
		checks.Add(1)
		if err := checkErr.Load(); err != nil {
			return false, *err
		}
		return current.Load(), nil
	}
	_, _ = c.GetChecked(ctx, "k", now, check, load)

	now = now.Add(2 * time.Second)
	if v, _ := c.GetCheckedAhead(ctx, "k", time.Time{}, now, check, load); v != 1 {
		t.Fatalf("get with a changed value to refresh = %d, want the cached 1 at once", v)
	}
	waitForLoads(c, "k")
	if v, _ := c.GetChecked(ctx, "k", now, check, load); v != 2 || loads.Load() != 2 || checks.Load() != 1 {
		t.Errorf("after the refresh = %d after %d loads, %d checks; want the reloaded 2 with no further call", v, loads.Load(), checks.Load())
	}

	boom := errors.New("boom")
	checkErr.Store(&boom)
	now = now.Add(2 * time.Second)
	if v, err := c.GetCheckedAhead(ctx, "k", time.Time{}, now, check, load); v != 2 || err != nil {
		t.Fatalf("get with a refresh that fails = %d, %v; want the cached 2, no error", v, err)
	}
	waitForLoads(c, "k")
	checkErr.Store(nil)
	current.Store(true)
	if v, err := c.GetChecked(ctx, "k", now, check, load); v != 2 || err != nil || checks.Load() != 3 {
		t.Errorf("after a failed refresh = %d, %v after %d checks; want 2 after a check of its own", v, err, checks.Load())
	}
}

// A refresh goes on when the caller that started it is cancelled, but
// within a deadline of its own.
func TestGetCheckedAheadRefreshOutlivesItsCallerWithADeadline(t *testing.T) {
	c := New[int](time.Minute, 10)
	now := time.Unix(0, 0)
	c.now = func() time.Time { return now }
	load := func(context.Context) (int, error) { return 1, nil }
	_, _ = c.Get(context.Background(), "k", load)

	ctx, cancel := context.WithCancel(context.Background())
	var deadline time.Time
	var hasDeadline bool
	var errAtCheck error
	gate := make(chan struct{})
	check := func(ctx context.Context, _ int) (bool, error) {
		<-gate
		deadline, hasDeadline = ctx.Deadline()
		errAtCheck = ctx.Err()
		return true, nil
	}
	now = now.Add(2 * time.Second)
	_, _ = c.GetCheckedAhead(ctx, "k", time.Time{}, now, check, load)
	cancel()
	close(gate)
	waitForLoads(c, "k")
	if errAtCheck != nil || !hasDeadline {
		t.Errorf("refresh's context: error %v, deadline %v (%v); want no error despite the caller's cancel, and a deadline", errAtCheck, hasDeadline, deadline)
	}
	if until := time.Until(deadline); until > time.Minute {
		t.Errorf("refresh's deadline is %v away, want at most the cache's ttl (1m)", until)
	}
}

// A load that panics is an error for its callers, not the end of the
// process (singleflight would re-raise it on a goroutine of its own), and
// the next get loads again.
func TestPanickingLoadIsAnError(t *testing.T) {
	c := New[int](time.Minute, 10)
	ctx := context.Background()
	_, err := c.Get(ctx, "k", func(context.Context) (int, error) { panic("a bug") })
	if err == nil || !strings.Contains(err.Error(), "panic") {
		t.Fatalf("Get with a panicking load = %v, want an error saying panic", err)
	}
	if v, err := c.Get(ctx, "k", func(context.Context) (int, error) { return 7, nil }); err != nil || v != 7 {
		t.Errorf("Get after = %d, %v; want 7 loaded", v, err)
	}
}
