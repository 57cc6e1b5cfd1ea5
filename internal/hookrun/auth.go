package hookrun

import (
	"encoding/base64"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// AuthKind is how hookrun authenticates itself to an endpoint, besides the
// signature.
type AuthKind string

// Auth kinds.
const (
	AuthNone   AuthKind = "none"
	AuthBearer AuthKind = "bearer"  // Authorization: Bearer <token>
	AuthAPIKey AuthKind = "api_key" // <header>: <key>
	AuthBasic  AuthKind = "basic"   // Authorization: Basic base64(user:password)
)

// EndpointAuth is the credential sent to an endpoint on every attempt. It
// lives in Secret Manager with the signing secret and is never returned.
type EndpointAuth struct {
	Kind     AuthKind `json:"kind"`
	Token    string   `json:"token,omitempty"`
	Header   string   `json:"header,omitempty"`
	Key      string   `json:"key,omitempty"`
	Username string   `json:"username,omitempty"`
	Password string   `json:"password,omitempty"`
}

// reservedHeaders are headers an endpoint's configuration may not set:
// hop-by-hop and framing headers the HTTP client owns, and the signature
// headers of every scheme hookrun sends.
var reservedHeaders = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-authenticate": true, "proxy-authorization": true,
	"proxy-connection": true, "te": true, "trailer": true, "trailers": true, "transfer-encoding": true,
	"upgrade": true, "host": true, "content-length": true, "content-type": true, "content-encoding": true,
	"expect": true, "user-agent": true,
	"webhook-id": true, "webhook-timestamp": true, "webhook-signature": true,
	"x-hub-signature": true, "x-hub-signature-256": true, "stripe-signature": true,
}

// Validate checks the credential for its kind; field names follow the JSON
// ("auth.token"…). Values must be valid header values: no CR, LF or NUL.
func (a EndpointAuth) Validate() error {
	switch a.Kind {
	case "", AuthNone:
		if a.Token != "" || a.Key != "" || a.Username != "" || a.Password != "" || a.Header != "" {
			return Errorf(CodeInvalidArgument, "auth.kind: set it (bearer, api_key or basic) to send credentials")
		}
	case AuthBearer:
		if err := headerValue("auth.token", a.Token); err != nil {
			return err
		}
	case AuthAPIKey:
		if err := headerName("auth.header", a.Header); err != nil {
			return err
		}
		if strings.EqualFold(a.Header, "authorization") {
			return Errorf(CodeInvalidArgument, "auth.header: use kind bearer or basic for Authorization")
		}
		if err := headerValue("auth.key", a.Key); err != nil {
			return err
		}
	case AuthBasic:
		if a.Username == "" || strings.Contains(a.Username, ":") {
			return Errorf(CodeInvalidArgument, "auth.username: required, without ':'")
		}
		if err := headerValue("auth.password", a.Password); err != nil {
			return err
		}
	default:
		return Errorf(CodeInvalidArgument, "auth.kind: %q is not none, bearer, api_key or basic", string(a.Kind))
	}
	return nil
}

// Apply sets the credential's header on h.
func (a EndpointAuth) Apply(h http.Header) {
	switch a.Kind {
	case AuthBearer:
		h.Set("Authorization", "Bearer "+a.Token)
	case AuthAPIKey:
		h.Set(a.Header, a.Key)
	case AuthBasic:
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password)))
	}
}

// ValidateHeaders checks an endpoint's custom headers: at most 20, valid
// names and values, none of the reserved ones, and no Authorization (auth
// sets that).
func ValidateHeaders(h map[string]string) error {
	if len(h) > 20 {
		return Errorf(CodeInvalidArgument, "headers: at most 20")
	}
	for name, v := range h {
		field := "headers." + name
		if err := headerName(field, name); err != nil {
			return err
		}
		if strings.EqualFold(name, "authorization") {
			return Errorf(CodeInvalidArgument, "%s: set credentials with auth, not a custom header", field)
		}
		if err := headerValue(field, v); err != nil {
			return err
		}
	}
	return nil
}

func headerName(field, name string) error {
	if !httpguts.ValidHeaderFieldName(name) {
		return Errorf(CodeInvalidArgument, "%s: %q is not a valid header name", field, name)
	}
	if reservedHeaders[strings.ToLower(name)] {
		return Errorf(CodeInvalidArgument, "%s: %s is set by hookrun and cannot be overridden", field, name)
	}
	return nil
}

func headerValue(field, v string) error {
	if v == "" || len(v) > 4096 || !httpguts.ValidHeaderFieldValue(v) {
		return Errorf(CodeInvalidArgument, "%s: required, at most 4096 characters, without control characters", field)
	}
	return nil
}
