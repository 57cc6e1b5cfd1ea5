package client

import "github.com/hookrun/hookrun/run/ingest/client/internal/api"

// The API's resources, requests and answers, as generated from the OpenAPI
// document: their fields and doc comments are the document's. Optional
// fields are pointers, so that an update can tell "leave as it is" (nil)
// from a zero value; Ptr makes one.
type (
	// Tenant is a tenant of hookrun: the account whose endpoints receive
	// its events.
	Tenant = api.Tenant
	// TenantLimits are what a tenant may use; only the admin token sets them.
	TenantLimits = api.TenantLimits
	// TenantStatus is active, disabled or deleting.
	TenantStatus = api.TenantStatus
	// CreateTenantRequest is the body of CreateTenant.
	CreateTenantRequest = api.CreateTenantRequest
	// CreatedTenant is a new tenant with its first API key, shown only here.
	CreatedTenant = api.CreateTenantResponse
	// TenantUpdate changes the fields it sets; nil fields stay as they are.
	TenantUpdate = api.TenantUpdate
	// TenantDeletion is a tenant's deletion in progress or done.
	TenantDeletion = api.TenantDeletion
	// RetryPolicy is how hookrun retries deliveries to an endpoint (of the
	// tenant, or its own); not the Client's retries (RetryConfig).
	RetryPolicy = api.RetryPolicy

	// APIKey is a tenant's API key as the API shows it: never the key.
	APIKey = api.APIKey
	// CreatedAPIKey is a new API key with the key itself, shown only here.
	CreatedAPIKey = api.CreateAPIKeyResponse

	// Endpoint is a tenant's webhook endpoint.
	Endpoint = api.Endpoint
	// EndpointStatus is active, pending (until it answers the ownership
	// challenge) or disabled.
	EndpointStatus = api.EndpointStatus
	// EndpointAuth is the credential hookrun sends to an endpoint.
	EndpointAuth = api.EndpointAuth
	// AuthKind is the kind of an EndpointAuth: none, bearer, api_key or
	// basic.
	AuthKind = api.EndpointAuthKind
	// OnClientError is what a 4xx answer of an endpoint does: retry or
	// dead_letter.
	OnClientError = api.OnClientError
	// CreateEndpointRequest is the body of CreateEndpoint.
	CreateEndpointRequest = api.CreateEndpointRequest
	// CreatedEndpoint is a new endpoint with its signing secret, shown only
	// here.
	CreatedEndpoint = api.CreateEndpointResponse
	// EndpointUpdate changes the fields it sets; nil fields stay as they are.
	EndpointUpdate = api.PatchEndpointRequest
	// RotatedEndpoint is an endpoint with its new signing secret, shown only
	// here.
	RotatedEndpoint = api.RotateSecretResponse
	// Metrics are the delivery figures of a tenant or an endpoint.
	Metrics = api.Metrics

	// EventSummary is an event without its data, its deliveries counted.
	EventSummary = api.EventSummary
	// EventWithDeliveries is an event with its data and its deliveries,
	// each with its attempts.
	EventWithDeliveries = api.EventWithDeliveries
	// EventSource is how an event came: api or pubsub.
	EventSource = api.EventSource
	// DeliverySummary counts an event's deliveries by state.
	DeliverySummary = api.DeliverySummary
	// Delivery is one event's delivery to one endpoint; a dead one is a
	// dead letter.
	Delivery = api.Delivery
	// DeliveryState is pending, succeeded, retrying or dead.
	DeliveryState = api.DeliveryState
	// Attempt is one HTTP request to an endpoint.
	Attempt = api.Attempt

	// DeadLetterFilter selects dead letters; empty fields match all.
	DeadLetterFilter = api.DeadLetterFilter
	// ReplayStarted answers a replay or redelivery: the new attempt chain.
	ReplayStarted = api.ReplayResponse
	// Replay is the progress of a replay of dead letters.
	Replay = api.Replay
	// ReplayState is running, done or failed.
	ReplayState = api.ReplayState
	// ReplayCounts is a replay's progress.
	ReplayCounts = api.ReplayCounts

	// PortalSession is a one-time link into a tenant's portal.
	PortalSession = api.PortalSession

	// ProducerKey is a producer key as the API shows it: never the key.
	ProducerKey = api.ProducerKey
	// CreatedProducerKey is a new producer key with the key itself, shown
	// only here.
	CreatedProducerKey = api.CreateProducerKeyResponse
)

// Values of the enumerations that callers branch on.
const (
	TenantActive   = api.TenantStatusActive
	TenantDisabled = api.TenantStatusDisabled
	TenantDeleting = api.TenantStatusDeleting

	EndpointActive   = api.EndpointStatusActive
	EndpointPending  = api.EndpointStatusPending
	EndpointDisabled = api.EndpointStatusDisabled

	DeliveryPending   = api.DeliveryStatePending
	DeliverySucceeded = api.DeliveryStateSucceeded
	DeliveryRetrying  = api.DeliveryStateRetrying
	DeliveryDead      = api.DeliveryStateDead

	AuthNone   = api.EndpointAuthKindNone
	AuthBearer = api.EndpointAuthKindBearer
	AuthAPIKey = api.EndpointAuthKindAPIKey
	AuthBasic  = api.EndpointAuthKindBasic

	OnClientErrorRetry      = api.OnClientErrorRetry
	OnClientErrorDeadLetter = api.OnClientErrorDeadLetter

	ReplayRunning = api.ReplayStateRunning
	ReplayDone    = api.ReplayStateDone
	ReplayFailed  = api.ReplayStateFailed
)

// Ptr answers a pointer to v, for the optional fields of requests:
// EndpointUpdate{Enabled: client.Ptr(false)}.
func Ptr[T any](v T) *T { return &v }
