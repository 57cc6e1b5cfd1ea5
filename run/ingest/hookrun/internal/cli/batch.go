package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/hookrun/hookrun/run/ingest/client"
)

// batchResult is what became of one line of a batch.
type batchResult struct {
	Line   int                 `json:"line"`
	ID     string              `json:"id,omitempty"`
	Result client.BatchOutcome `json:"result"`
	Error  *resultError        `json:"error,omitempty"`
}

// resultError is why an event was refused, in the API's error shape.
type resultError struct {
	Code    int    `json:"code,omitempty"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// batchSummary is a whole batch's results, in line order, and their counts.
type batchSummary struct {
	Results    []batchResult `json:"results"`
	Accepted   int           `json:"accepted"`
	Duplicates int           `json:"duplicates"`
	Refused    int           `json:"refused"`
}

func (s *batchSummary) add(r batchResult) {
	s.Results = append(s.Results, r)
	switch r.Result {
	case client.Accepted:
		s.Accepted++
	case client.Duplicate:
		s.Duplicates++
	default:
		s.Refused++
	}
}

// pendingEvent is a line read and waiting to be sent with its chunk.
type pendingEvent struct {
	line  int
	event client.Event
}

// sendBatch sends the NDJSON events of file ("" or "-": stdin) in chunks
// within the batch route's bounds, and prints every line's
// result. A chunk that fails as a whole (the API unreachable, the key
// refused) stops the run after printing what was sent before it.
func (a *app) sendBatch(ctx context.Context, file string) error {
	in := a.env.Stdin
	if file != "" && file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return usageErrorf("send --batch: %v", err)
		}
		defer f.Close()
		in = f
	}
	s, err := a.connect()
	if err != nil {
		return err
	}
	b := &batchRun{a: a, s: s, prog: a.progress()}
	return b.end(b.run(ctx, newNDJSONReader(in)))
}

// batchRun is one send --batch: the chunk being filled and the results so
// far.
type batchRun struct {
	a          *app
	s          *session
	prog       *progress
	sum        batchSummary
	chunk      []pendingEvent
	chunkBytes int
}

// run reads and sends every line; an error stops it.
func (b *batchRun) run(ctx context.Context, r *ndjsonReader) error {
	for {
		ev, line, err := r.next()
		var le *lineError
		switch {
		case errors.Is(err, io.EOF):
			return b.flush(ctx)
		case errors.As(err, &le):
			// Refused here, in line order after the events before it.
			if err := b.flush(ctx); err != nil {
				return err
			}
			if err := b.record(batchResult{Line: line, Result: client.Refused,
				Error: &resultError{Status: string(client.CodeInvalidArgument), Message: le.err.Error()}}); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("read the batch: %w", err)
		default:
			if err := b.add(ctx, line, ev); err != nil {
				return err
			}
		}
	}
}

// add puts an event in the chunk, sending the chunk first when the event
// would take it over the batch route's limits.
func (b *batchRun) add(ctx context.Context, line int, ev batchLine) error {
	size := len(ev.ID) + len(ev.Type) + len(ev.Data) + 64 // the JSON around them
	if len(b.chunk) == client.MaxBatchEvents || b.chunkBytes+size > client.MaxBatchBytes {
		if err := b.flush(ctx); err != nil {
			return err
		}
	}
	b.chunk = append(b.chunk, pendingEvent{line: line, event: client.Event{ID: ev.ID, Type: ev.Type, Data: ev.Data}})
	b.chunkBytes += size
	return nil
}

// flush sends the chunk and records its results.
func (b *batchRun) flush(ctx context.Context) error {
	if len(b.chunk) == 0 {
		return nil
	}
	results, err := sendChunk(ctx, b.s, b.chunk)
	b.chunk, b.chunkBytes = b.chunk[:0], 0
	for _, res := range results {
		if rerr := b.record(res); rerr != nil {
			return rerr
		}
	}
	sum := &b.sum
	b.prog.show(false, "sent %d events: %d accepted, %d duplicates, %d refused", len(sum.Results), sum.Accepted, sum.Duplicates, sum.Refused)
	return err
}

// record counts a line's result; ndjson writes it at once.
func (b *batchRun) record(r batchResult) error {
	b.sum.add(r)
	if b.a.flags.output == formatNDJSON {
		return writeJSON(b.a.env.Stdout, r, false)
	}
	return nil
}

// end prints the results and turns the run's end into its error: runErr
// if it stopped early, a partial failure if any event was refused.
func (b *batchRun) end(runErr error) error {
	b.prog.done()
	if err := b.a.printBatch(b.sum); err != nil {
		return err
	}
	n := len(b.sum.Results)
	if runErr != nil {
		return fmt.Errorf("send --batch stopped after %d events: %w", n, runErr)
	}
	if b.sum.Refused > 0 {
		return &exitError{ExitPartial, fmt.Errorf("%d of %d events refused", b.sum.Refused, n)}
	}
	return nil
}

// printBatch writes the results at the end (ndjson wrote them as they
// came): a table with the counts under it, or the summary as JSON.
func (a *app) printBatch(sum batchSummary) error {
	switch a.flags.output {
	case formatNDJSON:
		return nil
	case formatJSON:
		if sum.Results == nil {
			sum.Results = []batchResult{}
		}
		return writeJSON(a.env.Stdout, sum, true)
	}
	err := printList(a, sum.Results,
		column[batchResult]{"LINE", func(r batchResult) string { return strconv.Itoa(r.Line) }},
		column[batchResult]{"ID", func(r batchResult) string { return r.ID }},
		column[batchResult]{"RESULT", func(r batchResult) string { return string(r.Result) }},
		column[batchResult]{"ERROR", func(r batchResult) string {
			if r.Error == nil {
				return ""
			}
			return r.Error.Status + ": " + r.Error.Message
		}},
	)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.env.Stdout, "%d accepted, %d duplicates, %d refused\n", sum.Accepted, sum.Duplicates, sum.Refused)
	return err
}

// sendChunk sends one chunk's events in one batch request (the client
// splits it further if its JSON is over the route's bounds), to the
// login's tenant or as the key's own, and answers each line's result in
// order. An error means a request failed as a whole: it comes with the
// results of the events before it.
func sendChunk(ctx context.Context, s *session, chunk []pendingEvent) ([]batchResult, error) {
	events := make([]client.Event, len(chunk))
	for i, p := range chunk {
		events[i] = p.event
	}
	var res *client.BatchResults
	var err error
	if s.creds.Tenant != "" {
		res, err = s.SendBatchTo(ctx, s.creds.Tenant, events)
	} else {
		res, err = s.SendBatch(ctx, events)
	}
	if res == nil {
		return nil, err
	}
	out := make([]batchResult, len(res.Results))
	for i, r := range res.Results {
		out[i] = batchResult{Line: chunk[i].line, ID: r.ID, Result: r.Outcome}
		if r.Err != nil {
			out[i].Error = &resultError{Code: r.Err.StatusCode, Status: string(r.Err.Code), Message: r.Err.Message}
		}
	}
	return out, err
}
