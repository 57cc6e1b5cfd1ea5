package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"time"
)

// portalFuncs are the portal templates' formatting functions: one way to
// show a time, a latency and a payload on every page.
var portalFuncs = template.FuncMap{
	"time":    timeHTML,
	"ms":      milliseconds,
	"payload": prettyJSON,
	// hasPrefix tells the layout which page is current, by its title.
	"hasPrefix": strings.HasPrefix,
}

// timeHTML shows t as a <time> element in UTC; the portal's script
// (static/localtime.js) rewrites it to the viewer's time zone, so without
// script the page still reads right.
func timeHTML(t time.Time) template.HTML {
	if t.IsZero() {
		return "–"
	}
	t = t.UTC()
	return template.HTML(`<time datetime="` + t.Format(time.RFC3339Nano) + `">` + t.Format("2006-01-02 15:04:05") + ` UTC</time>`)
}

// milliseconds shows a latency in ms, with a decimal under 10 ms where a
// whole number would round a fast local answer to 0.
func milliseconds(d time.Duration) string {
	ms := float64(d.Microseconds()) / 1000
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// prettyJSON indents a JSON payload for reading; what is not JSON is shown
// as it is. The template escapes the result like any text.
func prettyJSON(b json.RawMessage) string {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}
