package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Output formats (-o). JSON fields are the API's own names, so scripts
// read the same shapes as the API reference shows.
const (
	formatTable  = "table"
	formatJSON   = "json"
	formatNDJSON = "ndjson"
)

// column is one column of a table: its header and how a row shows it.
type column[T any] struct {
	header string
	value  func(T) string
}

// printList writes items as a table, a JSON array (json) or one JSON
// object per line (ndjson).
func printList[T any](a *app, items []T, cols ...column[T]) error {
	w := a.env.Stdout
	switch a.flags.output {
	case formatJSON:
		if items == nil {
			items = []T{}
		}
		return writeJSON(w, items, true)
	case formatNDJSON:
		for _, it := range items {
			if err := writeJSON(w, it, false); err != nil {
				return err
			}
		}
		return nil
	}
	tw := newTable(w)
	headers := make([]string, len(cols))
	for i, c := range cols {
		headers[i] = c.header
	}
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, it := range items {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = cell(c.value(it))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// field is one line of a single object's table view.
type field struct{ name, value string }

// printObject writes v as JSON (json and ndjson alike), or its fields as
// "name: value" lines.
func printObject(a *app, v any, fields ...field) error {
	if a.flags.output != formatTable {
		return writeJSON(a.env.Stdout, v, a.flags.output == formatJSON)
	}
	tw := newTable(a.env.Stdout)
	for _, f := range fields {
		if f.value != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", f.name, cell(f.value))
		}
	}
	return tw.Flush()
}

// writeJSON writes v as one JSON document, indented or on one line. URLs
// stay readable: no HTML escaping of & < >.
func writeJSON(w io.Writer, v any, indent bool) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(v)
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// cell keeps a table cell on its line: a value from the API (an error
// message, a description) may hold tabs or newlines.
func cell(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// timeCell shows a time in the reader's zone to the second; zero is blank.
func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// durationCell shows a latency rounded to what a reader compares.
func durationCell(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}
