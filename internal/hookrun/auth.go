package hookrun

import (
	"encoding/base64"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

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

// Limits of an endpoint's credentials and custom headers, in bytes. They
// are chosen so that whatever passes EndpointSecret.Validate fits in one
// Secret Manager payload (MaxSecretPayloadBytes) even when every character
// is one that JSON doubles ('"', '\', U+2028): 20 headers of 128 + 2 ×
// 1024 bytes, a credential of at most 128 + 2 × 4096, and the signing
// secret are about 52 KB of 64 KiB
// (TestLargestEndpointSecretFitsSecretManager). Raising one limit means
// lowering another.
const (
	MaxHeaders         = 20   // custom headers of one endpoint
	MaxHeaderNameLen   = 128  // a custom header's name, and auth.header
	MaxHeaderValueLen  = 1024 // a custom header's value
	MaxAuthTokenLen    = 4096 // auth.token (bearer) and auth.key (api_key)
	MaxAuthUsernameLen = 256  // auth.username (basic)
	MaxAuthPasswordLen = 1024 // auth.password (basic)
)

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
		if err := headerValue("auth.token", a.Token, MaxAuthTokenLen); err != nil {
			return err
		}
	case AuthAPIKey:
		if err := headerName("auth.header", a.Header); err != nil {
			return err
		}
		if strings.EqualFold(a.Header, "authorization") {
			return Errorf(CodeInvalidArgument, "auth.header: use kind bearer or basic for Authorization")
		}
		if err := headerValue("auth.key", a.Key, MaxAuthTokenLen); err != nil {
			return err
		}
	case AuthBasic:
		// RFC 7617: the user-id has no ':' and, like the password, no
		// control characters.
		if err := headerValue("auth.username", a.Username, MaxAuthUsernameLen); err != nil {
			return err
		}
		if strings.Contains(a.Username, ":") {
			return Errorf(CodeInvalidArgument, "auth.username: must not contain ':'")
		}
		if err := headerValue("auth.password", a.Password, MaxAuthPasswordLen); err != nil {
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

// ValidateHeaders checks an endpoint's custom headers: at most
// MaxHeaders, valid names and values within their limits, none of the
// reserved ones, no Authorization (auth sets that), and no name twice:
// header names are case-insensitive, so "X-A" and "x-a" are one header of
// which only one value would be sent. authHeader is the header the api_key
// credential sets, if any, which is taken too.
func ValidateHeaders(h map[string]string, authHeader string) error {
	if len(h) > MaxHeaders {
		return Errorf(CodeInvalidArgument, "headers: at most %d", MaxHeaders)
	}
	seen := make(map[string]string, len(h)+1)
	if authHeader != "" {
		seen[http.CanonicalHeaderKey(authHeader)] = "auth.header"
	}
	// In order, so that of two clashing names the error names the same one
	// every time.
	for _, name := range slices.Sorted(maps.Keys(h)) {
		field := "headers." + name
		if err := headerName(field, name); err != nil {
			return err
		}
		if strings.EqualFold(name, "authorization") {
			return Errorf(CodeInvalidArgument, "%s: set credentials with auth, not a custom header", field)
		}
		canonical := http.CanonicalHeaderKey(name)
		if other, dup := seen[canonical]; dup {
			return Errorf(CodeInvalidArgument, "%s: the same header as %s (header names ignore case): set it once", field, other)
		}
		seen[canonical] = field
		if err := headerValue(field, h[name], MaxHeaderValueLen); err != nil {
			return err
		}
	}
	return nil
}

func headerName(field, name string) error {
	if !httpguts.ValidHeaderFieldName(name) {
		return Errorf(CodeInvalidArgument, "%s: %q is not a valid header name", field, name)
	}
	if len(name) > MaxHeaderNameLen {
		return Errorf(CodeInvalidArgument, "%s: a header name has at most %d characters", field, MaxHeaderNameLen)
	}
	if reservedHeaders[strings.ToLower(name)] {
		return Errorf(CodeInvalidArgument, "%s: %s is set by hookrun and cannot be overridden", field, name)
	}
	return nil
}

// headerValue checks a value sent in a header: present, at most maxLen
// bytes, UTF-8 (it is stored as JSON) without control characters.
func headerValue(field, v string, maxLen int) error {
	if v == "" || len(v) > maxLen || !httpguts.ValidHeaderFieldValue(v) || !utf8.ValidString(v) {
		return Errorf(CodeInvalidArgument, "%s: required, at most %d bytes of UTF-8, without control characters", field, maxLen)
	}
	return nil
}
