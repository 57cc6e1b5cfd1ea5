package cache

import (
	"context"
	"errors"
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
