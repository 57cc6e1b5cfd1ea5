package httpapi

import (
	"context"
	"log/slog"
)

// CollectLogAttrs returns ctx in which AddLogAttrs collects attributes as
// it does in a request Middleware serves, and a function returning those
// collected so far: for work that is not a request but logs one line of
// its own with the same attributes (a pulled Pub/Sub message).
func CollectLogAttrs(ctx context.Context) (context.Context, func() []slog.Attr) {
	la := &logAttrs{}
	return context.WithValue(ctx, logAttrsKey{}, la), func() []slog.Attr {
		la.mu.Lock()
		defer la.mu.Unlock()
		return append([]slog.Attr(nil), la.attrs...)
	}
}
