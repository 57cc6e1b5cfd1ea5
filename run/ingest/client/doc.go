// Package client is the Go client of hookrun's ingest API, for producers
// that send events and for tenants and operators that manage endpoints,
// read events and their delivery attempts, replay dead letters and open
// portal sessions.
//
// A Client is made with New from the service's base URL and one
// credential: a tenant API key, a producer key, the admin token or a token
// source such as a Google ID token source. Every method takes a context
// whose deadline bounds the whole call, retries included; each attempt
// also has its own timeout (WithTimeout).
//
// A failed call answers an *Error when the API refused it, carrying the
// HTTP status, the API's code (such as "INVALID_ARGUMENT") and its
// Retry-After. Retryable failures (429, 503, ABORTED, a request lost in
// transit) are retried with exponential backoff and jitter
// (WithRetry); Send, SendTo and SendBatch give each event its ID before
// the first attempt, so every retry carries the same ID and the event is
// accepted once.
//
// The request and answer types are generated from the OpenAPI document
// (see internal/api); a test keeps them in step with it.
package client
