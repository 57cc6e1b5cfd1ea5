package secretmanager

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestParseVersionName(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		wantSecret  string
		wantVersion string
		wantCode    codes.Code
	}{
		{"number", "projects/p/secrets/s/versions/3", "projects/p/secrets/s", "3", codes.OK},
		{"latest", "projects/p/secrets/s/versions/latest", "projects/p/secrets/s", "latest", codes.OK},
		{"no version", "projects/p/secrets/s", "", "", codes.InvalidArgument},
		{"empty version", "projects/p/secrets/s/versions/", "", "", codes.InvalidArgument},
		{"extra segment", "projects/p/secrets/s/versions/1/x", "", "", codes.InvalidArgument},
		{"bad secret id", "projects/p/secrets/a.b/versions/1", "", "", codes.InvalidArgument},
		{"empty project", "projects//secrets/s/versions/1", "", "", codes.InvalidArgument},
		{"regional", "projects/p/locations/l/secrets/s/versions/1", "", "", codes.Unimplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret, version, err := parseVersionName(tt.in)
			if got := status.Code(err); got != tt.wantCode {
				t.Fatalf("parseVersionName(%q): got code %v (%v), want %v", tt.in, got, err, tt.wantCode)
			}
			if err != nil {
				return
			}
			if got := secret.String(); got != tt.wantSecret {
				t.Errorf("secret: got %q, want %q", got, tt.wantSecret)
			}
			if version != tt.wantVersion {
				t.Errorf("version: got %q, want %q", version, tt.wantVersion)
			}
		})
	}
}

func TestValidateLabels(t *testing.T) {
	tooMany := map[string]string{}
	for i := range maxLabels + 1 {
		tooMany["k"+strings.Repeat("x", i)] = ""
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   codes.Code
	}{
		{"hookrun's", map[string]string{"app": "hookrun"}, codes.OK},
		{"empty value", map[string]string{"app": ""}, codes.OK},
		{"unicode lower case", map[string]string{"épée": "ça_va-1"}, codes.OK},
		{"upper-case key", map[string]string{"App": "x"}, codes.InvalidArgument},
		{"key starting with a digit", map[string]string{"1app": "x"}, codes.InvalidArgument},
		{"upper-case value", map[string]string{"app": "X"}, codes.InvalidArgument},
		{"value of 64", map[string]string{"app": strings.Repeat("a", 64)}, codes.InvalidArgument},
		{"too many", tooMany, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status.Code(validateLabels(tt.labels)); got != tt.want {
				t.Errorf("validateLabels: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidateAnnotations(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		want        codes.Code
	}{
		{"slash in key", map[string]string{"hookrun.dev/tenant": "x"}, codes.InvalidArgument},
		{"dots and underscores", map[string]string{"hookrun.tenant_id": "T-1"}, codes.OK},
		{"ends with a dot", map[string]string{"key.": "x"}, codes.InvalidArgument},
		{"16 KiB in all", map[string]string{"k": strings.Repeat("v", 16*1024-1)}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status.Code(validateAnnotations(tt.annotations)); got != tt.want {
				t.Errorf("validateAnnotations: got %v, want %v", got, tt.want)
			}
		})
	}
}
