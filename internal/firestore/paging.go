package firestore

import (
	"encoding/base64"
	"encoding/json"
	"time"

	fs "cloud.google.com/go/firestore"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Lists are ordered by a time field, newest first, with the document ID as
// tie-break; a page token is the last item's (time, ID), opaque to callers.
type pageToken struct {
	Time time.Time `json:"t"`
	ID   string    `json:"id"`
}

// newestFirst orders q by timeField descending and starts it after token
// (from a previous page of the same collection), asking one more than
// pageSize to learn whether another page follows.
func newestFirst(q fs.Query, coll *fs.CollectionRef, timeField string, pageSize int, token string) (fs.Query, error) {
	q = q.OrderBy(timeField, fs.Desc).OrderBy(fs.DocumentID, fs.Desc).Limit(pageSize + 1)
	if token == "" {
		return q, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	var pt pageToken
	if err != nil || json.Unmarshal(raw, &pt) != nil || pt.ID == "" {
		return q, hookrun.Errorf(hookrun.CodeInvalidArgument, "page_token: not a token this API returned")
	}
	return q.StartAfter(pt.Time, coll.Doc(pt.ID)), nil
}

// page cuts items fetched by newestFirst to pageSize and returns the next
// page's token, "" when there is none.
func page[T any](items []T, pageSize int, key func(T) (time.Time, string)) ([]T, string) {
	if len(items) <= pageSize {
		return items, ""
	}
	items = items[:pageSize]
	t, id := key(items[len(items)-1])
	raw, _ := json.Marshal(pageToken{Time: t, ID: id})
	return items, base64.RawURLEncoding.EncodeToString(raw)
}
