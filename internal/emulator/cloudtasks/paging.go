package cloudtasks

import (
	"encoding/base64"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Page size caps of the real API; 0 asks for the largest page, as there.
const (
	maxQueuePageSize = 9800
	maxTaskPageSize  = 1000
)

// page is a decoded list request. Lists are sorted by resource name, and a
// page token holds the name of the last item returned, so items created or
// deleted while a caller pages neither repeat nor shift the remaining pages.
type page struct {
	parent string
	size   int
	after  string // "": from the first item
}

func parsePage(parent string, size, maxSize int32, token string) (page, error) {
	p := page{parent: parent, size: int(size)}
	switch {
	case size < 0:
		return page{}, status.Errorf(codes.InvalidArgument, "page_size %d must not be negative", size)
	case size == 0 || size > maxSize:
		p.size = int(maxSize)
	}
	if token == "" {
		return p, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return page{}, errBadToken()
	}
	// The token is bound to its parent, as the real service's are.
	tokenParent, after, ok := strings.Cut(string(raw), "\x00")
	if !ok || tokenParent != parent || after == "" {
		return page{}, errBadToken()
	}
	p.after = after
	return p, nil
}

// cut returns the page of items (sorted by key, increasing) and the token of
// the next page, "" when this one is the last.
func cut[T any](p page, items []T, key func(T) string) ([]T, string) {
	start := 0
	if p.after != "" {
		for start < len(items) && key(items[start]) <= p.after {
			start++
		}
	}
	items = items[start:]
	if len(items) <= p.size {
		return items, ""
	}
	items = items[:p.size]
	last := key(items[len(items)-1])
	return items, base64.RawURLEncoding.EncodeToString([]byte(p.parent + "\x00" + last))
}

func errBadToken() error {
	return status.Error(codes.InvalidArgument, "invalid page_token")
}
