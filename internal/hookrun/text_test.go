package hookrun

import (
	"strings"
	"testing"
	"time"
)

// Every field of free text goes through CleanText: each refuses what it
// refuses, naming itself.
func TestFreeTextFieldsRefuseControlCharactersAndInvalidUTF8(t *testing.T) {
	now := time.Now()
	active := Tenant{ID: "acme", Name: "Acme", Status: TenantActive}
	fields := []struct {
		field string
		set   func(s string) error
	}{
		{"name", func(s string) error { _, err := NewTenant("acme", s, now); return err }},
		{"name", func(s string) error { _, err := active.Apply(TenantUpdate{Name: &s}, now); return err }},
		{"disabled_reason", func(s string) error {
			st := TenantDisabled
			_, err := active.Apply(TenantUpdate{Status: &st, DisabledReason: &s}, now)
			return err
		}},
		{"description", func(s string) error {
			_, err := NewEndpoint("acme", EndpointInput{URL: "https://example.com/h", EventTypes: []string{"*"}, Description: s}, URLPolicy{}, now)
			return err
		}},
		{"description", func(s string) error { _, err := EndpointDescription(s); return err }},
		{"name", func(s string) error { _, _, err := NewTenantAPIKey("acme", s, now); return err }},
	}
	bad := map[string]string{
		"NUL":           "Ac\x00me",
		"CR":            "Acme\rInc",
		"LF":            "Acme\nInc",
		"trailing LF":   "Acme\n",
		"tab":           "Acme\tInc",
		"invalid UTF-8": "Acme \xff",
		"C1 control":    "Acme \u0085",
	}
	for _, f := range fields {
		if err := f.set("Acme Ünïcode ✓"); err != nil {
			t.Errorf("%s: plain text refused: %v", f.field, err)
		}
		for name, s := range bad {
			t.Run(f.field+"/"+name, func(t *testing.T) {
				err := f.set(s)
				if ErrorCode(err) != CodeInvalidArgument || !strings.HasPrefix(ErrorMessage(err), f.field+":") {
					t.Errorf("%q: %v, want INVALID_ARGUMENT naming %s", s, err, f.field)
				}
			})
		}
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct {
		in, want string
		max      int
		wantErr  string
	}{
		{"  Acme  ", "Acme", 10, ""},
		{"ÄÖÜ", "ÄÖÜ", 3, ""}, // characters, not bytes
		{"ÄÖÜß", "", 3, "at most 3 characters"},
		{"", "", 3, ""},
		{"a\x00", "", 3, "U+0000"},
		{"a\x7f", "", 3, "control character"},
		{"\xc3", "", 3, "invalid UTF-8"},
	}
	for _, tt := range tests {
		got, err := CleanText("f", tt.in, tt.max)
		switch {
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("CleanText(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(ErrorMessage(err), tt.wantErr) || !strings.HasPrefix(ErrorMessage(err), "f: ")):
			t.Errorf("CleanText(%q) = %v, want an error about f containing %q", tt.in, err, tt.wantErr)
		}
	}
}
