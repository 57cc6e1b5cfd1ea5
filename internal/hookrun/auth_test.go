package hookrun

import (
	"fmt"
	"strings"
	"testing"
)

func TestEndpointSecretValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("v", n) }
	tests := []struct {
		name    string
		sec     EndpointSecret
		wantErr string // prefix of the message; "" means valid
	}{
		{"none", EndpointSecret{}, ""},
		{"bearer", EndpointSecret{Auth: EndpointAuth{Kind: AuthBearer, Token: long(MaxAuthTokenLen)}}, ""},
		{"bearer too long", EndpointSecret{Auth: EndpointAuth{Kind: AuthBearer, Token: long(MaxAuthTokenLen + 1)}}, "auth.token: "},
		{"api key", EndpointSecret{Auth: EndpointAuth{Kind: AuthAPIKey, Header: "X-Api-Key", Key: long(MaxAuthTokenLen)}}, ""},
		{"api key too long", EndpointSecret{Auth: EndpointAuth{Kind: AuthAPIKey, Header: "X-Api-Key", Key: long(MaxAuthTokenLen + 1)}}, "auth.key: "},
		{"api key header name too long", EndpointSecret{Auth: EndpointAuth{Kind: AuthAPIKey, Header: "X-" + long(MaxHeaderNameLen), Key: "k"}}, "auth.header: "},
		{"basic", EndpointSecret{Auth: EndpointAuth{Kind: AuthBasic, Username: long(MaxAuthUsernameLen), Password: long(MaxAuthPasswordLen)}}, ""},
		{"basic username of 200 KB", EndpointSecret{Auth: EndpointAuth{Kind: AuthBasic, Username: long(200 << 10), Password: "p"}}, "auth.username: "},
		{"basic username too long", EndpointSecret{Auth: EndpointAuth{Kind: AuthBasic, Username: long(MaxAuthUsernameLen + 1), Password: "p"}}, "auth.username: "},
		{"basic username with LF", EndpointSecret{Auth: EndpointAuth{Kind: AuthBasic, Username: "a\nb", Password: "p"}}, "auth.username: "},
		{"basic password too long", EndpointSecret{Auth: EndpointAuth{Kind: AuthBasic, Username: "u", Password: long(MaxAuthPasswordLen + 1)}}, "auth.password: "},
		{"header", EndpointSecret{Headers: map[string]string{"X-Tenant": long(MaxHeaderValueLen)}}, ""},
		{"header value too long", EndpointSecret{Headers: map[string]string{"X-Tenant": long(MaxHeaderValueLen + 1)}}, "headers.X-Tenant: "},
		{"header value of invalid UTF-8", EndpointSecret{Headers: map[string]string{"X-Tenant": "a\xff"}}, "headers.X-Tenant: "},
		{"header name too long", EndpointSecret{Headers: map[string]string{"X-" + long(MaxHeaderNameLen): "v"}}, "headers.X-v"},
		{"headers differing in case", EndpointSecret{Headers: map[string]string{"X-Tenant": "a", "x-tenant": "b"}}, "headers.x-tenant: "},
		{"header that the api key sets", EndpointSecret{Auth: EndpointAuth{Kind: AuthAPIKey, Header: "X-Api-Key", Key: "k"}, Headers: map[string]string{"x-api-key": "b"}}, "headers.x-api-key: "},
		{"too many headers", EndpointSecret{Headers: manyHeaders(MaxHeaders+1, 1)}, "headers: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.sec.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.wantErr != "" && (ErrorCode(err) != CodeInvalidArgument || !strings.HasPrefix(ErrorMessage(err), tt.wantErr)):
				t.Errorf("Validate = %v, want INVALID_ARGUMENT starting %q", err, tt.wantErr)
			}
		})
	}
}

// manyHeaders returns n headers of distinct names, each value of size
// bytes of '"', the character JSON grows most (to `\"`).
func manyHeaders(n, size int) map[string]string {
	h := make(map[string]string, n)
	for i := range n {
		name := fmt.Sprintf("X-%03d-", i)
		h[name+strings.Repeat("h", MaxHeaderNameLen-len(name))] = strings.Repeat(`"`, size)
	}
	return h
}

// The per-field limits promise that whatever passes Validate fits in one
// Secret Manager payload: the largest secret, of the characters JSON
// encodes longest, must encode within MaxSecretPayloadBytes.
func TestLargestEndpointSecretFitsSecretManager(t *testing.T) {
	worst := strings.Repeat(`"`, MaxAuthTokenLen)
	signing := "whsec_" + strings.Repeat("A", 200) // far longer than any signing secret
	for _, auth := range []EndpointAuth{
		{Kind: AuthBearer, Token: worst},
		{Kind: AuthAPIKey, Header: "X-" + strings.Repeat("k", MaxHeaderNameLen-2), Key: worst},
		{Kind: AuthBasic, Username: strings.Repeat(`\`, MaxAuthUsernameLen), Password: strings.Repeat("\u2028", MaxAuthPasswordLen/3)},
	} {
		t.Run(string(auth.Kind), func(t *testing.T) {
			sec := EndpointSecret{SigningSecret: signing, Auth: auth, Headers: manyHeaders(MaxHeaders, MaxHeaderValueLen)}
			if err := sec.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			p, err := sec.Payload()
			if err != nil {
				t.Fatalf("Payload: %v", err)
			}
			if len(p) > MaxSecretPayloadBytes {
				t.Errorf("payload is %d bytes, over Secret Manager's %d", len(p), MaxSecretPayloadBytes)
			}
		})
	}
}

// Payload itself refuses what Secret Manager would: a secret put together
// without Validate cannot become a 503 that retries forever.
func TestEndpointSecretPayloadOverTheLimit(t *testing.T) {
	sec := EndpointSecret{SigningSecret: "whsec_x", Headers: manyHeaders(MaxHeaders*4, MaxHeaderValueLen)}
	_, err := sec.Payload()
	if ErrorCode(err) != CodeInvalidArgument || !strings.Contains(ErrorMessage(err), fmt.Sprint(MaxSecretPayloadBytes)) {
		t.Errorf("Payload = %v, want INVALID_ARGUMENT naming the limit of %d bytes", err, MaxSecretPayloadBytes)
	}
}

// The payload keeps '<', '>' and '&' as they are: HTML escaping would
// make each six bytes and break the size bound.
func TestEndpointSecretPayloadRoundTrips(t *testing.T) {
	sec := EndpointSecret{SigningSecret: "whsec_x", Auth: EndpointAuth{Kind: AuthBearer, Token: "<a&b>"}, Headers: map[string]string{"X-A": `q"\`}}
	p, err := sec.Payload()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(p), "<a&b>") {
		t.Errorf("payload %s escapes HTML", p)
	}
	got, err := ParseEndpointSecret(p)
	if err != nil || got.Auth != sec.Auth || got.Headers["X-A"] != sec.Headers["X-A"] || got.SigningSecret != sec.SigningSecret {
		t.Errorf("ParseEndpointSecret(Payload()) = %+v, %v; want %+v", got, err, sec)
	}
}
