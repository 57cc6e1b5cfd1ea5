package secretmanager

import (
	"encoding/base64"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Page sizes: the real service caps page_size at 25000 and picks its own
// size for 0; the emulator picks a small one so a caller that ignores
// next_page_token finds out locally.
const (
	defaultPageSize = 100
	maxPageSize     = 25000
)

// page is a decoded list request. Lists are newest first, and each item has
// a key that grows with creation (a creation sequence or a version number),
// so a page token holds the key of the last item returned: items created
// while a caller pages neither repeat nor shift the remaining pages.
type page struct {
	parent string
	size   int
	before uint64 // 0: from the newest item
}

func parsePage(parent string, size int32, token string) (page, error) {
	p := page{parent: parent, size: int(size)}
	switch {
	case size < 0:
		return page{}, status.Errorf(codes.InvalidArgument, "page_size %d must not be negative", size)
	case size == 0:
		p.size = defaultPageSize
	case size > maxPageSize:
		p.size = maxPageSize
	}
	if token == "" {
		return p, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return page{}, errBadToken()
	}
	// The token is bound to its parent, as the real service's are.
	tokenParent, key, ok := strings.Cut(string(raw), "\x00")
	if !ok || tokenParent != parent {
		return page{}, errBadToken()
	}
	p.before, err = strconv.ParseUint(key, 10, 64)
	if err != nil || p.before == 0 {
		return page{}, errBadToken()
	}
	return p, nil
}

// cut returns the page of items (sorted newest first, key(item) decreasing)
// and the token of the next page, "" when this one is the last.
func cut[T any](p page, items []T, key func(T) uint64) ([]T, string) {
	start := 0
	if p.before != 0 {
		for start < len(items) && key(items[start]) >= p.before {
			start++
		}
	}
	items = items[start:]
	if len(items) <= p.size {
		return items, ""
	}
	items = items[:p.size]
	last := key(items[len(items)-1])
	token := base64.RawURLEncoding.EncodeToString([]byte(p.parent + "\x00" + strconv.FormatUint(last, 10)))
	return items, token
}

func errBadToken() error {
	return status.Error(codes.InvalidArgument, "invalid page_token")
}
