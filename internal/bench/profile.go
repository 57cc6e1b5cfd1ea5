package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// profile collects a CPU profile of each named service that serves a
// profiler (ingest and the dispatcher) over the next d, and a heap profile
// at its end, in the background, when Config.ProfileDir is set (otherwise
// it does nothing). wait blocks until they are written to
// <ProfileDir>/<scenario>-<service>.pprof and …-<service>.heap.pprof, for
// `go tool pprof`.
func (b *bench) profile(ctx context.Context, scenario string, d time.Duration, services ...string) (wait func() error) {
	if b.cfg.ProfileDir == "" {
		return func() error { return nil }
	}
	secs := strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second)))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, name := range services {
		base := b.stack.PprofURL(name)
		if base == "" {
			continue // the sample receiver serves no profiler
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := filepath.Join(b.cfg.ProfileDir, scenario+"-"+name+".pprof")
			err := fetchProfile(ctx, base+"/debug/pprof/profile?seconds="+secs, path)
			if err == nil {
				// At the window's end, under its load: what holds the
				// memory its peak RSS figure reports.
				err = fetchProfile(ctx, base+"/debug/pprof/heap", filepath.Join(b.cfg.ProfileDir, scenario+"-"+name+".heap.pprof"))
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("profile %s: %w", name, err))
				mu.Unlock()
			}
		}()
	}
	return func() error {
		wg.Wait()
		if len(errs) > 0 {
			return errs[0]
		}
		return nil
	}
}

func fetchProfile(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
