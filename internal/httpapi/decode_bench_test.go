package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookrun/hookrun/internal/httpapi"
	"github.com/hookrun/hookrun/internal/wire"
)

// eventData is a realistic event's data: a nested object of about 1 KiB.
func eventData() string {
	var b strings.Builder
	b.WriteString(`{"user":{"id":"usr_8f3a9c2e41d7","email":"ada.lovelace@example.com","name":"Ada Lovelace","locale":"en-GB","created_at":"2026-12-07T17:20:00.123456Z","roles":["admin","billing","support"],"address":{"street":"12 St James's Square","city":"London","postcode":"SW1Y 4JH","country":"GB"}},`)
	b.WriteString(`"plan":{"id":"pro-monthly","seats":25,"price":{"amount":4900,"currency":"EUR"},"trial":false,"features":["sso","audit-log","webhooks","priority-support"]},`)
	b.WriteString(`"items":[`)
	for i := range 6 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%04d","qty":%d,"unit_price":%d.99,"tags":["a","b"],"note":null}`, i, i+1, 10*i)
	}
	b.WriteString(`],"metadata":{"source":"signup-form","campaign":"winter-2026","referrer":"https://example.com/blog/welcome","ip":"203.0.113.42"}}`)
	return b.String()
}

// benchEvent is the body of POST /v1/events (ingest's publishEventRequest).
type benchEvent struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

func eventBody() []byte {
	return []byte(`{"type":"user.created","data":` + eventData() + `}`)
}

// pushBody is what Pub/Sub pushes to the dispatcher for such an event.
func pushBody() []byte {
	data := base64.StdEncoding.EncodeToString([]byte(eventData()))
	return []byte(`{"message":{"data":"` + data + `","attributes":{"tenant_id":"acme","event_id":"evt_2Yk4mQe8H1rX","event_type":"user.created","received_at":"2026-12-07T17:20:00.123456789Z","hookrun_source":"api","googclient_schemaencoding":"JSON"},` +
		`"messageId":"13374254961723918","message_id":"13374254961723918","publishTime":"2026-12-07T17:20:00.456Z","publish_time":"2026-12-07T17:20:00.456Z"},` +
		`"subscription":"projects/hookrun-prod/subscriptions/hookrun-events-push","deliveryAttempt":1}`)
}

// benchDecode decodes body b.N times through decode, as a handler does:
// one request whose body is rewound each time. Besides ns/op, which the
// other work of a shared machine inflates, it reports cpu-ns/op: the
// process's CPU time (user and system, the garbage collector's included)
// per decode, what issue 17 asks to lower.
func benchDecode[T any](b *testing.B, body []byte, decode func(http.ResponseWriter, *http.Request, int64, any) error) {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	br := bytes.NewReader(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		br.Reset(body)
		r.Body, r.ContentLength = io.NopCloser(br), int64(len(body))
		var dst T
		if err := decode(w, r, 1<<20, &dst); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkDecodeJSONEvent(b *testing.B) {
	benchDecode[benchEvent](b, eventBody(), httpapi.DecodeJSON)
}

func BenchmarkDecodeJSONLenientPushEnvelope(b *testing.B) {
	benchDecode[wire.PushEnvelope](b, pushBody(), httpapi.DecodeJSONLenient)
}
