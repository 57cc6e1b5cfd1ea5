package client

import (
	"context"
	"iter"
)

// pageFunc answers the page that token names ("" for the first) and the
// token of the next ("" after the last).
type pageFunc[T any] func(ctx context.Context, token string) (items []T, next string, err error)

// all iterates over the items of every page, fetching each page when the
// loop reaches it. An error ends the iteration after it is yielded.
func all[T any](ctx context.Context, page pageFunc[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		token := ""
		for {
			items, next, err := page(ctx, token)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			token = next
		}
	}
}

// optional answers a pointer to v, or nil for its zero value: a filter
// left empty is a parameter not sent.
func optional[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// deref answers *p, or the zero value for nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
