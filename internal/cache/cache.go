// Package cache is a small in-memory cache with a time-to-live, used for
// the configuration hookrun reads on every request (API keys, tenants,
// endpoints, secret versions). Concurrent misses for one key share a single
// load, so a burst of events costs one Firestore read, not hundreds.
package cache

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// TTL caches values for a fixed time. It is safe for concurrent use. The
// zero value is not usable; call New.
type TTL[V any] struct {
	ttl     time.Duration
	max     int
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]entry[V]
	// loading holds the keys with a load in flight, so that callers
	// served a value to refresh (GetCheckedAhead) start none while one
	// is under way: it started after their value was loaded.
	loading map[string]bool
	group   singleflight.Group
}

type entry[V any] struct {
	v       V
	loaded  time.Time // when the load that produced v started
	expires time.Time
}

// New returns a cache keeping values for ttl and at most max entries; when
// full, expired entries are dropped, then everything (simple and bounded,
// which is what matters for a cache of configuration).
func New[V any](ttl time.Duration, max int) *TTL[V] {
	return &TTL[V]{ttl: ttl, max: max, now: time.Now, entries: make(map[string]entry[V]), loading: make(map[string]bool)}
}

// Get returns the cached value for key, or calls load once for all
// concurrent callers and caches its result. Errors are not cached. A
// caller whose ctx ends stops waiting for the load with ctx's error.
func (c *TTL[V]) Get(ctx context.Context, key string, load func(context.Context) (V, error)) (V, error) {
	return c.GetFresh(ctx, key, time.Time{}, load)
}

// GetFresh is Get for callers that need state no older than notBefore: a
// cached value, or a shared load, that started before notBefore is not
// used. The dispatcher passes an event's receive time, so an endpoint
// created before the event was accepted is always seen.
func (c *TTL[V]) GetFresh(ctx context.Context, key string, notBefore time.Time, load func(context.Context) (V, error)) (V, error) {
	return c.GetChecked(ctx, key, notBefore, nil, load)
}

// GetChecked is GetFresh for values that can be checked for a change more
// cheaply than loaded again: a cached value that is too old for notBefore,
// or expired, is first passed to check, which reports whether it is still
// current; only if it is not (or check fails) is load called. A value check
// confirms counts as loaded when the check started, and is kept for
// another ttl. A nil check checks nothing.
func (c *TTL[V]) GetChecked(ctx context.Context, key string, notBefore time.Time, check func(context.Context, V) (bool, error), load func(context.Context) (V, error)) (V, error) {
	return c.GetCheckedAhead(ctx, key, notBefore, time.Time{}, check, load)
}

// GetCheckedAhead is GetChecked that refreshes ahead of need: a cached
// value it returns that was loaded (or confirmed by check) before
// refreshBefore is returned at once, and checked, or loaded again if
// check finds it changed, in the background, as one load shared with any
// other of key. So callers that ask for ever fresher values in steady
// succession find them current instead of waiting for the check. The
// refresh outlives ctx's cancellation but not a deadline of its own, the
// cache's ttl (what it brings would be stale by then); its error is
// logged, not returned to anyone, and the next caller that needs a
// fresher value checks again. A zero refreshBefore refreshes nothing
// ahead.
func (c *TTL[V]) GetCheckedAhead(ctx context.Context, key string, notBefore, refreshBefore time.Time, check func(context.Context, V) (bool, error), load func(context.Context) (V, error)) (V, error) {
	// A time still to come (a publisher's clock ahead, or a forged
	// attribute) asks for no more than a load that starts now: waiting
	// for it would spin reloading until then.
	if now := c.now(); notBefore.After(now) {
		notBefore = now
	}
	if v, ok := c.cached(ctx, key, notBefore, refreshBefore, check, load); ok {
		return v, nil
	}
	for {
		loading := c.group.DoChan(key, c.loader(context.WithoutCancel(ctx), key, check, load))
		var r singleflight.Result
		select {
		case r = <-loading:
		case <-ctx.Done():
			// This caller stops waiting; the load goes on for the others.
			var zero V
			return zero, ctx.Err()
		}
		if r.Err != nil {
			var zero V
			return zero, r.Err
		}
		if e := r.Val.(entry[V]); !e.loaded.Before(notBefore) || ctx.Err() != nil {
			return e.v, nil
		}
		// We joined a load that started too early for us; start our own.
	}
}

// cached returns the value cached for key if it will do for notBefore,
// and starts its refresh ahead if it was loaded before refreshBefore and
// no load of key is in flight.
func (c *TTL[V]) cached(ctx context.Context, key string, notBefore, refreshBefore time.Time, check func(context.Context, V) (bool, error), load func(context.Context) (V, error)) (V, bool) {
	var zero V
	if c.ttl <= 0 {
		return zero, false
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok || !now.Before(e.expires) || e.loaded.Before(notBefore) {
		c.mu.Unlock()
		return zero, false
	}
	refresh := e.loaded.Before(refreshBefore) && !c.loading[key]
	c.mu.Unlock()
	if refresh {
		c.refreshAhead(ctx, key, check, load)
	}
	return e.v, true
}

// loader returns the load of key that concurrent callers share, made
// with ctx: check the cached value, and load only if it is not current.
// The load outlives one caller's cancellation and deadline (others may
// wait on it), so ctx is none of theirs: its calls have deadlines of
// their own.
func (c *TTL[V]) loader(ctx context.Context, key string, check func(context.Context, V) (bool, error), load func(context.Context) (V, error)) func() (any, error) {
	return func() (_ any, err error) {
		// A load runs on a goroutine of its own, where singleflight
		// re-raises a panic out of every caller's reach, ending the
		// process: it becomes the waiting callers' error instead.
		defer func() {
			if p := recover(); p != nil {
				slog.ErrorContext(ctx, "panic loading a cached value", "panic", p, "stack", string(debug.Stack()))
				err = fmt.Errorf("load %q: panic: %v", key, p)
			}
		}()
		c.mu.Lock()
		c.loading[key] = true
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			delete(c.loading, key)
			c.mu.Unlock()
		}()
		e := entry[V]{loaded: c.now()}
		if v, ok, err := c.check(ctx, key, check); err != nil {
			return nil, err
		} else if ok {
			e.v, e.expires = v, e.loaded.Add(c.ttl)
			c.put(key, e)
			return e, nil
		}
		v, err := load(ctx)
		if err != nil {
			return nil, err
		}
		e.v, e.expires = v, e.loaded.Add(c.ttl)
		if c.ttl > 0 {
			c.put(key, e)
		}
		return e, nil
	}
}

// refreshAhead starts the shared load of key in the background, within
// the cache's ttl, or joins the one in flight. Nobody waits for it: its
// error is logged.
func (c *TTL[V]) refreshAhead(ctx context.Context, key string, check func(context.Context, V) (bool, error), load func(context.Context) (V, error)) {
	c.group.DoChan(key, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.ttl)
		defer cancel()
		v, err := c.loader(ctx, key, check, load)()
		if err != nil {
			slog.WarnContext(ctx, "cache refresh failed; the next caller that needs a fresher value loads it", "key", key, "error", err.Error())
		}
		return v, err
	})
}

// check passes the value cached for key, expired or not, to check, and
// returns it if check finds it current.
func (c *TTL[V]) check(ctx context.Context, key string, check func(context.Context, V) (bool, error)) (V, bool, error) {
	var zero V
	if check == nil || c.ttl <= 0 {
		return zero, false, nil
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok {
		return zero, false, nil
	}
	current, err := check(ctx, e.v)
	if err != nil || !current {
		return zero, false, err
	}
	return e.v, true, nil
}

// Delete drops key, so the next Get loads it afresh (after a write).
func (c *TTL[V]) Delete(key string) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}

func (c *TTL[V]) put(key string, e entry[V]) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	if old, ok := c.entries[key]; ok && old.loaded.After(e.loaded) {
		return // a later load finished first: keep the fresher value
	}
	c.entries[key] = e
}
