package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxLineBytes bounds one NDJSON line: one event, whose data the API takes
// up to 1,000,000 bytes, with room for its id, type and JSON escapes.
const maxLineBytes = 2 << 20

// batchLine is one line of a batch file: one event, shaped as POST
// /v1/events takes it.
type batchLine struct {
	ID   string          `json:"id,omitempty"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// ndjsonReader reads events from NDJSON, one per line. Blank lines are
// skipped; a line that is not an event is reported with its number and
// reading goes on with the next.
type ndjsonReader struct {
	r    *bufio.Reader
	line int
}

func newNDJSONReader(r io.Reader) *ndjsonReader {
	return &ndjsonReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// lineError is a line that holds no event; the others are still sent.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }

// next returns the next event and its line number. A *lineError says the
// line holds no event and reading may go on; io.EOF ends the input; any
// other error is the input's own failure.
func (n *ndjsonReader) next() (batchLine, int, error) {
	for {
		raw, tooLong, err := n.readLine()
		if err != nil {
			return batchLine{}, n.line, err
		}
		if tooLong {
			return batchLine{}, n.line, &lineError{n.line, fmt.Errorf("longer than %d bytes", maxLineBytes)}
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		ev, err := parseBatchLine(raw)
		if err != nil {
			return batchLine{}, n.line, &lineError{n.line, err}
		}
		return ev, n.line, nil
	}
}

// readLine reads one line without its newline, at most maxLineBytes of it:
// the rest of a longer line is read and dropped, and tooLong says so.
func (n *ndjsonReader) readLine() (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := n.r.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLineBytes+1 {
			tooLong = true
		} else {
			buf = append(buf, chunk...)
		}
		switch {
		case err == nil:
			n.line++
			return bytes.TrimSuffix(buf, []byte("\n")), tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && (len(buf) > 0 || tooLong):
			n.line++
			return buf, tooLong, nil
		default:
			return nil, false, err
		}
	}
}

// parseBatchLine reads one event: a JSON object with a type and an object
// as data, and nothing else. The API checks the rest (type syntax, sizes).
func parseBatchLine(raw []byte) (batchLine, error) {
	var ev batchLine
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return ev, fmt.Errorf("not an event: %w", err)
	}
	if dec.More() {
		return ev, errors.New("more than one JSON value on the line")
	}
	if ev.Type == "" {
		return ev, errors.New("type is missing")
	}
	if err := checkData(ev.Data); err != nil {
		return ev, err
	}
	return ev, nil
}

// checkData says whether data is a JSON object, as an event's data must be.
func checkData(data json.RawMessage) error {
	d := bytes.TrimSpace(data)
	if len(d) == 0 || d[0] != '{' {
		return errors.New("data must be a JSON object")
	}
	if !json.Valid(d) {
		return errors.New("data is not valid JSON")
	}
	return nil
}
