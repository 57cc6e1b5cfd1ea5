package hookrun

import "time"

// EndpointUpdate is a change to an endpoint's settings: nil fields stay as
// they are. Creating an endpoint applies one with every field set
// (NewEndpoint), so that creating and changing an endpoint share each rule
// and normalise alike. The credentials (auth, headers) are not here: they
// live in Secret Manager, which only the API reaches.
type EndpointUpdate struct {
	URL           *string            `json:"url"`
	EventTypes    *[]string          `json:"event_types"`
	Description   *string            `json:"description"`
	RetryPolicy   *RetryPolicy       `json:"retry_policy"`
	OnClientError *ClientErrorAction `json:"on_client_error"`
	Timeout       *Duration          `json:"timeout"`
	RateLimit     *int               `json:"rate_limit"`
	// PropagateTrace: see Endpoint.PropagateTrace.
	PropagateTrace *bool `json:"propagate_trace"`
	// Enabled disables (false) or re-enables (true) the endpoint.
	Enabled *bool `json:"enabled"`
	// DisabledBy names who disables the endpoint ("the admin", "the
	// tenant"), for its disabled reason.
	DisabledBy string `json:"-"`
}

// Apply validates u and returns e with it applied at now. Disabling records
// who did it; re-enabling a disabled endpoint makes it active again. A new
// URL must prove its ownership again: an endpoint that is not disabled
// becomes pending, and the caller runs the challenge.
func (e Endpoint) Apply(u EndpointUpdate, policy URLPolicy, now time.Time) (Endpoint, error) {
	oldURL := e.URL
	e, err := e.applySettings(u, policy)
	if err != nil {
		return Endpoint{}, err
	}
	switch {
	case u.Enabled != nil && !*u.Enabled:
		e.SetStatus(EndpointDisabled, now)
		e.DisabledReason = "disabled through the API by " + u.DisabledBy
	case u.Enabled != nil && *u.Enabled && e.Status == EndpointDisabled:
		e.SetStatus(EndpointActive, now)
		e.DisabledReason = ""
	}
	if e.URL != oldURL && e.Status != EndpointDisabled {
		e.SetStatus(EndpointPending, now)
	}
	return e, nil
}

// applySettings validates and applies u's settings, every rule of an
// endpoint's settings in one place; it leaves the status alone.
func (e Endpoint) applySettings(u EndpointUpdate, policy URLPolicy) (Endpoint, error) {
	if u.URL != nil {
		if err := policy.Validate(*u.URL); err != nil {
			return Endpoint{}, err
		}
		e.URL = *u.URL
	}
	if u.Description != nil {
		description, err := EndpointDescription(*u.Description)
		if err != nil {
			return Endpoint{}, err
		}
		e.Description = description
	}
	if u.RetryPolicy != nil {
		if err := u.RetryPolicy.Validate(); err != nil {
			return Endpoint{}, err
		}
		e.RetryPolicy = *u.RetryPolicy
	}
	if u.OnClientError != nil {
		if err := u.OnClientError.Validate(); err != nil {
			return Endpoint{}, err
		}
		e.OnClientError = *u.OnClientError
	}
	if u.Timeout != nil {
		if err := ValidateEndpointTimeout(*u.Timeout); err != nil {
			return Endpoint{}, err
		}
		e.Timeout = *u.Timeout
	}
	if u.RateLimit != nil {
		if err := ValidateRateLimit(*u.RateLimit); err != nil {
			return Endpoint{}, err
		}
		e.RateLimit = *u.RateLimit
	}
	if u.PropagateTrace != nil {
		e.PropagateTrace = *u.PropagateTrace
	}
	if u.EventTypes != nil {
		e.EventTypes = *u.EventTypes
		if err := e.Compile(); err != nil {
			return Endpoint{}, err
		}
	}
	return e, nil
}
