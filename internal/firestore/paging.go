package firestore

import (
	"time"

	fs "cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// Lists are ordered by a time field, newest first, with the document ID as
// tie-break; a page token is the last item's (time, ID)
// (hookrun.PageToken).

// newestFirst orders q by timeField descending and starts it after token
// (from a previous page of the same collection), asking one more than
// pageSize to learn whether another page follows.
func newestFirst(q fs.Query, coll *fs.CollectionRef, timeField string, pageSize int, token string) (fs.Query, error) {
	q = q.OrderBy(timeField, fs.Desc).OrderBy(fs.DocumentID, fs.Desc).Limit(pageSize + 1)
	if token == "" {
		return q, nil
	}
	t, id, err := hookrun.ParsePageToken(token)
	if err != nil {
		return q, err
	}
	return q.StartAfter(t, coll.Doc(id)), nil
}

// page cuts items fetched by newestFirst to pageSize and returns the next
// page's token, "" when there is none.
func page[T any](items []T, pageSize int, key func(T) (time.Time, string)) ([]T, string) {
	if len(items) <= pageSize {
		return items, ""
	}
	items = items[:pageSize]
	return items, hookrun.PageToken(key(items[len(items)-1]))
}

// decodeAll reads every document of it with decode; what names the
// documents in an error.
func decodeAll[T any](it *fs.DocumentIterator, what string, decode func(*fs.DocumentSnapshot) (T, error)) ([]T, error) {
	defer it.Stop()
	var out []T
	for {
		snap, err := it.Next()
		if err == iterator.Done {
			return out, nil
		}
		if err != nil {
			return nil, coded(err, what)
		}
		v, err := decode(snap)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}
