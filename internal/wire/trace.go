package wire

// Trace context crosses Pub/Sub in message attributes, under the names
// Pub/Sub's own OpenTelemetry support gives them (the W3C header's name
// behind TraceAttrPrefix), so that a consumer instrumented by Google's
// client library continues hookrun's trace and hookrun continues one
// published by it. Cloud Tasks carry the same context as the task
// request's plain traceparent and tracestate headers.
const (
	// TraceAttrPrefix is put before each W3C trace context header name.
	TraceAttrPrefix = "googclient_"
	AttrTraceparent = TraceAttrPrefix + "traceparent"
	AttrTracestate  = TraceAttrPrefix + "tracestate"
)
