package hookrun

import (
	"strings"
	"testing"
	"time"
)

func ceMatch(source, typ, prefix string) SourceMatch {
	return SourceMatch{CloudEvents: &CloudEventsMatch{Source: source, Type: typ, TypePrefix: prefix}}
}

func bucketMatch(b string) SourceMatch { return SourceMatch{Storage: &StorageMatch{Bucket: b}} }

func auditMatch(service, method string) SourceMatch {
	return SourceMatch{AuditLog: &AuditLogMatch{ServiceName: service, MethodName: method}}
}

func TestNewSourceBinding(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		match     SourceMatch
		rule      EventTypeRule
		eventType string
		wantRule  EventTypeRule
		wantErr   string
	}{
		{"cloudevents defaults to its type", ceMatch("//pubsub.googleapis.com/projects/p/topics/t", "", ""), "", "", TypeFromCloudEvents, ""},
		{"storage defaults to derived", bucketMatch("uploads"), "", "", TypeDerived, ""},
		{"audit log defaults to derived", auditMatch("storage.googleapis.com", ""), "", "", TypeDerived, ""},
		{"fixed type", bucketMatch("uploads.example.com"), TypeFixed, "upload.stored", TypeFixed, ""},
		{"audit log may take the CloudEvents type", auditMatch("storage.googleapis.com", "storage.buckets.create"), TypeFromCloudEvents, "", TypeFromCloudEvents, ""},
		{"no match", SourceMatch{}, "", "", "", "exactly one"},
		{"two matches", SourceMatch{Storage: &StorageMatch{Bucket: "abc"}, AuditLog: &AuditLogMatch{ServiceName: "x.com"}}, "", "", "", "exactly one"},
		{"no source", ceMatch("", "", ""), "", "", "", "source: required"},
		{"source with a space", ceMatch("a b", "", ""), "", "", "", "spaces"},
		{"type and prefix", ceMatch("src", "a", "b"), "", "", "", "not both"},
		{"a bucket's source is bound by bucket", ceMatch("//storage.googleapis.com/projects/_/buckets/b", "", ""), "", "", "", "storage match"},
		{"an audit log's source is bound by service", ceMatch("//cloudaudit.googleapis.com/projects/p/logs/activity", "", ""), "", "", "", "audit_log match"},
		{"bad bucket", bucketMatch("Uploads"), "", "", "", "bucket name"},
		{"short bucket", bucketMatch("ab"), "", "", "", "bucket name"},
		{"bad service", auditMatch("Storage API", ""), "", "", "", "service name"},
		{"storage has no CloudEvents type", bucketMatch("uploads"), TypeFromCloudEvents, "", "", "no CloudEvents type"},
		{"cloudevents derive nothing", ceMatch("src", "", ""), TypeDerived, "", "", "cloudevents match takes"},
		{"fixed without a type", bucketMatch("uploads"), TypeFixed, "", "", "event_type: required"},
		{"fixed with a bad type", bucketMatch("uploads"), TypeFixed, "Upload", "", "event_type"},
		{"fixed with a reserved type", bucketMatch("uploads"), TypeFixed, "hookrun.endpoint.disabled", "", "reserved"},
		{"a type without fixed", bucketMatch("uploads"), TypeDerived, "a.b", "", "only with"},
		{"unknown rule", bucketMatch("uploads"), "guess", "", "", "not one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := NewSourceBinding("acme", tt.match, tt.rule, tt.eventType, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(ErrorMessage(err), tt.wantErr) || ErrorCode(err) != CodeInvalidArgument {
					t.Fatalf("err = %v, want INVALID_ARGUMENT containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.TypeRule != tt.wantRule || b.TenantID != "acme" || !b.CreatedAt.Equal(now) || !ValidSourceBindingID(b.ID) {
				t.Errorf("got %+v, want rule %q of acme created %v with a valid ID", b, tt.wantRule, now)
			}
		})
	}
}

func TestSourceMatchOverlaps(t *testing.T) {
	tests := []struct {
		a, b SourceMatch
		want bool
	}{
		{ceMatch("s", "", ""), ceMatch("s", "a.b", ""), true},
		{ceMatch("s", "a.b", ""), ceMatch("s", "a.c", ""), false},
		{ceMatch("s", "a.b", ""), ceMatch("t", "a.b", ""), false},
		{ceMatch("s", "", "a."), ceMatch("s", "a.b", ""), true},
		{ceMatch("s", "", "a."), ceMatch("s", "b.a", ""), false},
		{ceMatch("s", "", "a."), ceMatch("s", "", "a.b."), true},
		{ceMatch("s", "", "a."), ceMatch("s", "", "b."), false},
		{bucketMatch("uploads"), bucketMatch("uploads"), true},
		{bucketMatch("uploads"), bucketMatch("other"), false},
		{auditMatch("x.com", ""), auditMatch("x.com", "m"), true},
		{auditMatch("x.com", "m"), auditMatch("x.com", "n"), false},
		{auditMatch("x.com", "m"), auditMatch("y.com", "m"), false},
		{bucketMatch("x.com"), auditMatch("x.com", ""), false},
	}
	for _, tt := range tests {
		if got := tt.a.Overlaps(tt.b); got != tt.want {
			t.Errorf("%s %+v overlaps %+v = %v, want %v", tt.a.Claim(), tt.a, tt.b, got, tt.want)
		}
		if got := tt.b.Overlaps(tt.a); got != tt.want {
			t.Errorf("overlap is not symmetric for %+v, %+v", tt.a, tt.b)
		}
	}
}

func TestSourceBindingMatchesAndTypes(t *testing.T) {
	bind := func(m SourceMatch, rule EventTypeRule, typ string) SourceBinding {
		b, err := NewSourceBinding("acme", m, rule, typ, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	gcsNotification := SourceMessage{Bucket: "uploads", StorageEvent: "OBJECT_FINALIZE"}
	gcsCloudEvent := SourceMessage{CESource: "//storage.googleapis.com/projects/_/buckets/uploads", CEType: "google.cloud.storage.object.v1.metadataUpdated", Bucket: "uploads", StorageEvent: "OBJECT_METADATA_UPDATE"}
	audit := SourceMessage{CESource: "//cloudaudit.googleapis.com/projects/p/logs/activity", CEType: "google.cloud.audit.log.v1.written", AuditService: "cloudkms.googleapis.com", AuditMethod: "CreateKeyRing"}
	custom := SourceMessage{CESource: "https://billing.example.com", CEType: "invoice.paid"}
	tests := []struct {
		name     string
		b        SourceBinding
		m        SourceMessage
		match    bool
		wantType string
		wantErr  string
	}{
		{"bucket notification", bind(bucketMatch("uploads"), "", ""), gcsNotification, true, "storage.object.finalize", ""},
		{"bucket CloudEvent", bind(bucketMatch("uploads"), "", ""), gcsCloudEvent, true, "storage.object.metadata_update", ""},
		{"other bucket", bind(bucketMatch("other"), "", ""), gcsNotification, false, "", ""},
		{"fixed type", bind(bucketMatch("uploads"), TypeFixed, "upload.stored"), gcsNotification, true, "upload.stored", ""},
		{"audit log derived", bind(auditMatch("cloudkms.googleapis.com", ""), "", ""), audit, true, "audit.cloudkms.createkeyring", ""},
		{"audit log by method", bind(auditMatch("cloudkms.googleapis.com", "CreateKeyRing"), TypeFromCloudEvents, ""), audit, true, "google.cloud.audit.log.v1.written", ""},
		{"audit log other method", bind(auditMatch("cloudkms.googleapis.com", "DeleteKeyRing"), "", ""), audit, false, "", ""},
		{"cloudevents source", bind(ceMatch("https://billing.example.com", "", ""), "", ""), custom, true, "invoice.paid", ""},
		{"cloudevents type", bind(ceMatch("https://billing.example.com", "invoice.paid", ""), "", ""), custom, true, "invoice.paid", ""},
		{"cloudevents other type", bind(ceMatch("https://billing.example.com", "invoice.sent", ""), "", ""), custom, false, "", ""},
		{"cloudevents type prefix", bind(ceMatch("https://billing.example.com", "", "invoice."), "", ""), custom, true, "invoice.paid", ""},
		{"cloudevents other prefix", bind(ceMatch("https://billing.example.com", "", "order."), "", ""), custom, false, "", ""},
		{"CloudEvents type that is no event type", bind(ceMatch("src", "", ""), "", ""), SourceMessage{CESource: "src", CEType: "com.Example.Thing"}, true, "", "fixed event type"},
		{"CloudEvents type that is reserved", bind(ceMatch("src", "", ""), "", ""), SourceMessage{CESource: "src", CEType: "hookrun.endpoint.disabled"}, true, "", "fixed event type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := MatchSourceBinding([]SourceBinding{tt.b}, tt.m)
			if ok != tt.match {
				t.Fatalf("matched = %v, want %v", ok, tt.match)
			}
			if !ok {
				return
			}
			typ, err := got.EventTypeOf(tt.m)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || typ != tt.wantType {
				t.Errorf("type = %q, %v; want %q", typ, err, tt.wantType)
			}
		})
	}
}

func TestSourceMessageClaimsAndString(t *testing.T) {
	m := SourceMessage{CESource: "//storage.googleapis.com/projects/_/buckets/uploads", CEType: "google.cloud.storage.object.v1.finalized", Bucket: "uploads", StorageEvent: "OBJECT_FINALIZE"}
	claims := m.Claims()
	if len(claims) != 2 || claims[0] != bucketMatch("uploads").Claim() || claims[1] != "cloudevents source "+m.CESource {
		t.Errorf("claims = %q, want the bucket's, then the source's", claims)
	}
	if s := m.String(); !strings.Contains(s, `bucket "uploads"`) || !strings.Contains(s, `ce-source "//storage.googleapis.com/projects/_/buckets/uploads"`) {
		t.Errorf("String() = %q, want it to name the bucket and the source", s)
	}
	if s := (SourceMessage{}).String(); !strings.Contains(s, "nothing") {
		t.Errorf("empty String() = %q", s)
	}
}

func TestCheckNewSourceBinding(t *testing.T) {
	mk := func(tenant string, m SourceMatch) SourceBinding {
		b, err := NewSourceBinding(tenant, m, "", "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	acmeCreate := mk("acme", auditMatch("storage.googleapis.com", "storage.buckets.create"))
	tests := []struct {
		name    string
		held    []SourceBinding
		b       SourceBinding
		wantErr string
	}{
		{"first", nil, mk("acme", bucketMatch("uploads")), ""},
		{"another method of the tenant's service", []SourceBinding{acmeCreate}, mk("acme", auditMatch("storage.googleapis.com", "storage.buckets.delete")), ""},
		{"the same method", []SourceBinding{acmeCreate}, mk("acme", auditMatch("storage.googleapis.com", "storage.buckets.create")), "source binding " + acmeCreate.ID},
		{"another tenant's service", []SourceBinding{acmeCreate}, mk("globex", auditMatch("storage.googleapis.com", "storage.buckets.delete")), "bound to another tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckNewSourceBinding(tt.held, tt.b)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if ErrorCode(err) != CodeAlreadyExists || !strings.Contains(ErrorMessage(err), tt.wantErr) || strings.Contains(ErrorMessage(err), "acme") {
				t.Errorf("err = %v, want ALREADY_EXISTS containing %q and no tenant", err, tt.wantErr)
			}
		})
	}
}
