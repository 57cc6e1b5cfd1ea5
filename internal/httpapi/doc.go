// Package httpapi is what hookrun's HTTP services share: errors in Google's
// JSON error shape with the one mapping from hookrun.Code to HTTP status,
// strict bounded JSON decoding, the middleware that logs one line per
// request, correlates it with its trace and keeps panics from clients, and
// the server, with its read, write and idle timeouts and each request's
// deadline.
package httpapi
