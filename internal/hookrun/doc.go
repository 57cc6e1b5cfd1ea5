// Package hookrun holds hookrun's domain: tenants, endpoints, events,
// deliveries and attempts, the rules that validate them, event-type pattern
// matching, and the coded errors that the HTTP layer maps to statuses.
//
// It imports no SDK and does no I/O, so everything here is tested without an
// emulator. Services and adapters depend on it, never the other way round.
package hookrun
