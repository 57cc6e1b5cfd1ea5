// Package metrics is hookrun's operational metrics: the one place that
// names each OpenTelemetry instrument and the values of its attributes, and
// the exporters that carry them to Cloud Monitoring or a Prometheus scrape
// endpoint (provider.go). Services record through a *Recorder's typed
// methods, so that no instrument name or label value is spelled twice and
// no label can carry a tenant or endpoint ID: every attribute value below
// is one of a few constants, which keeps the series an operator pays for
// bounded.
package metrics

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// scope is the instrumentation scope of hookrun's own instruments.
const scope = "github.com/hookrun/hookrun"

// Source is where an accepted event came from.
type Source string

const (
	// SourceAPI is an event accepted by ingest's POST /v1/events.
	SourceAPI Source = "api"
	// SourceTopic is a message another publisher put on the events topic,
	// accepted when the dispatcher saves it as an event.
	SourceTopic Source = "topic"
)

// Outcome is what became of a delivery after an attempt.
type Outcome string

const (
	OutcomeSucceeded Outcome = "succeeded"
	OutcomeRetrying  Outcome = "retrying"
	OutcomeDead      Outcome = "dead"
)

// Dependency is a Google Cloud service hookrun calls.
type Dependency string

const (
	Firestore     Dependency = "firestore"
	PubSub        Dependency = "pubsub"
	SecretManager Dependency = "secretmanager"
	CloudTasks    Dependency = "cloudtasks"
)

// Recorder records hookrun's metrics. A nil *Recorder records nothing, so
// that code built without metrics (most tests) needs no stand-in. It is
// safe for concurrent use.
type Recorder struct {
	eventsAccepted   metric.Int64Counter
	eventsRefused    metric.Int64Counter
	messagesRejected metric.Int64Counter
	deliveries       metric.Int64Counter
	attempts         metric.Int64Counter
	attemptDuration  metric.Float64Histogram
	deliveryLatency  metric.Float64Histogram
	retriesScheduled metric.Int64Counter
	endpointsOff     metric.Int64Counter
	dependencyErrors metric.Int64Counter
}

// latencyBuckets are the histograms' bucket bounds in seconds: an attempt
// takes milliseconds to its timeout (60 s at most), and accept-to-delivered
// spans retries over days (the default schedule's ~3 days).
var latencyBuckets = []float64{
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
	300, 900, 3600, 4 * 3600, 24 * 3600, 3 * 24 * 3600,
}

// New declares hookrun's instruments on mp's meter.
func New(mp metric.MeterProvider) (*Recorder, error) {
	m := mp.Meter(scope)
	var r Recorder
	var errs []error
	// A counter's unit is an annotation naming what it counts, which
	// Prometheus leaves out of the name (hookrun_events_accepted_total).
	counter := func(dst *metric.Int64Counter, name, what, desc string) {
		c, err := m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit("{"+what+"}"))
		*dst = c
		errs = append(errs, err)
	}
	histogram := func(dst *metric.Float64Histogram, name, desc string) {
		h, err := m.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(latencyBuckets...))
		*dst = h
		errs = append(errs, err)
	}
	counter(&r.eventsAccepted, "hookrun.events.accepted", "event", "Events accepted, by source (api: ingest answered 202; topic: the dispatcher saved a message another publisher put on the events topic).")
	counter(&r.eventsRefused, "hookrun.events.refused", "event", "POST /v1/events requests refused, by reason (the error status ingest answered).")
	counter(&r.messagesRejected, "hookrun.messages.rejected", "message", "Messages recorded in rejected_messages: no tenant or type, bad data, unknown or disabled tenant, or undeliverable after the subscription's attempts.")
	counter(&r.deliveries, "hookrun.deliveries", "delivery", "Deliveries by the state an attempt left them in: succeeded, retrying (a retry is due), dead (the last attempt failed, or the endpoint was disabled before it).")
	counter(&r.attempts, "hookrun.attempts", "attempt", "Delivery attempts by the receiver's status class (error: no response).")
	histogram(&r.attemptDuration, "hookrun.attempt.duration", "How long a delivery attempt took, to the response or the error.")
	histogram(&r.deliveryLatency, "hookrun.delivery.latency", "From the event's receive time to the attempt that succeeded.")
	counter(&r.retriesScheduled, "hookrun.retries.scheduled", "retry", "Retry tasks scheduled after a failed attempt.")
	counter(&r.endpointsOff, "hookrun.endpoints.disabled", "endpoint", "Endpoints disabled, by reason.")
	counter(&r.dependencyErrors, "hookrun.dependency.errors", "error", "Failed calls to a Google Cloud service, by dependency.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &r, nil
}

// one is the option that labels a measurement key=value. Each label's
// values are few (a source, a status class, an outcome, a reason), and
// building an attribute set on every event cost more than the
// measurement, so each option is built once and kept.
func one(key, value string) metric.AddOption {
	k := label{key, value}
	if o, ok := labels.Load(k); ok {
		return o.(metric.AddOption)
	}
	o, _ := labels.LoadOrStore(k, metric.WithAttributeSet(attribute.NewSet(attribute.String(key, value))))
	return o.(metric.AddOption)
}

type label struct{ key, value string }

// labels holds one's options, by label.
var labels sync.Map

// EventAccepted counts an event accepted from source.
func (r *Recorder) EventAccepted(ctx context.Context, source Source) {
	if r != nil {
		r.eventsAccepted.Add(ctx, 1, one("source", string(source)))
	}
}

// EventRefused counts a POST /v1/events, or an event of a batch, that
// ingest refused with err; the reason is err's status (INTERNAL for an
// error without one).
func (r *Recorder) EventRefused(ctx context.Context, err error) {
	if r == nil {
		return
	}
	code := hookrun.ErrorCode(err)
	if code == "" {
		code = hookrun.CodeInternal
	}
	r.eventsRefused.Add(ctx, 1, one("reason", string(code)))
}

// MessageRejected counts a message recorded as rejected.
func (r *Recorder) MessageRejected(ctx context.Context) {
	if r != nil {
		r.messagesRejected.Add(ctx, 1)
	}
}

// Attempt counts a delivery attempt by its receiver's status (0: no
// response) and records how long it took.
func (r *Recorder) Attempt(ctx context.Context, status int, took time.Duration) {
	if r == nil {
		return
	}
	r.attempts.Add(ctx, 1, one("status_class", StatusClass(status)))
	r.attemptDuration.Record(ctx, took.Seconds())
}

// StatusClass is the status_class of an attempt: "2xx" … "5xx", or "error"
// when no valid status came back (a timeout, a refused connection).
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return "error"
	}
	return strconv.Itoa(status/100) + "xx"
}

// Delivery counts the outcome of a delivery after an attempt.
func (r *Recorder) Delivery(ctx context.Context, o Outcome) {
	if r != nil {
		r.deliveries.Add(ctx, 1, one("outcome", string(o)))
	}
}

// Delivered records the accept-to-delivered latency of a delivery that
// succeeded at delivered, for an event received at received.
func (r *Recorder) Delivered(ctx context.Context, received, delivered time.Time) {
	if r != nil {
		r.deliveryLatency.Record(ctx, max(delivered.Sub(received), 0).Seconds())
	}
}

// RetryScheduled counts a retry task scheduled.
func (r *Recorder) RetryScheduled(ctx context.Context) {
	if r != nil {
		r.retriesScheduled.Add(ctx, 1)
	}
}

// EndpointDisabled counts an endpoint disabled for reason.
func (r *Recorder) EndpointDisabled(ctx context.Context, reason hookrun.DisableCause) {
	if r != nil {
		r.endpointsOff.Add(ctx, 1, one("reason", string(reason)))
	}
}

// DependencyError counts a failed call to dep.
func (r *Recorder) DependencyError(ctx context.Context, dep Dependency) {
	if r != nil {
		r.dependencyErrors.Add(ctx, 1, one("dependency", string(dep)))
	}
}
