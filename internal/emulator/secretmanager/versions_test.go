package secretmanager_test

import (
	"hash/crc32"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

func TestAddAndAccessVersions(t *testing.T) {
	c, project := newClient(t)
	secret := createSecret(t, c, project, "signing").GetName()
	if want := project + "/secrets/signing"; secret != want {
		t.Fatalf("secret name: got %q, want %q", secret, want)
	}
	for i, data := range []string{"one", "two", "three"} {
		if got, want := addVersion(t, c, secret, data), versionName(secret, i+1); got != want {
			t.Fatalf("version name: got %q, want %q", got, want)
		}
	}

	tests := []struct {
		name     string
		version  string
		wantName string
		wantData string
	}{
		{"latest is the newest", secret + "/versions/latest", versionName(secret, 3), "three"},
		{"by number", versionName(secret, 1), versionName(secret, 1), "one"},
		{"middle", versionName(secret, 2), versionName(secret, 2), "two"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.AccessSecretVersion(t.Context(), &secretmanagerpb.AccessSecretVersionRequest{Name: tt.version})
			if err != nil {
				t.Fatalf("AccessSecretVersion: %v", err)
			}
			if got := resp.GetName(); got != tt.wantName {
				t.Errorf("name: got %q, want %q", got, tt.wantName)
			}
			if got := string(resp.GetPayload().GetData()); got != tt.wantData {
				t.Errorf("data: got %q, want %q", got, tt.wantData)
			}
			wantSum := int64(crc32.Checksum([]byte(tt.wantData), crc32.MakeTable(crc32.Castagnoli)))
			if got := resp.GetPayload().DataCrc32C; got == nil || *got != wantSum {
				t.Errorf("data_crc32c: got %v, want %d", got, wantSum)
			}
		})
	}
}

func TestAddVersionChecksum(t *testing.T) {
	c, project := newClient(t)
	secret := createSecret(t, c, project, "checked").GetName()
	data := []byte("whsec_abc")
	sum := int64(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))

	tests := []struct {
		name         string
		payload      *secretmanagerpb.SecretPayload
		wantCode     codes.Code
		wantClientCk bool
	}{
		{"matching checksum", &secretmanagerpb.SecretPayload{Data: data, DataCrc32C: proto.Int64(sum)}, codes.OK, true},
		{"no checksum", &secretmanagerpb.SecretPayload{Data: data}, codes.OK, false},
		{"corrupted", &secretmanagerpb.SecretPayload{Data: data, DataCrc32C: proto.Int64(sum + 1)}, codes.InvalidArgument, false},
		{"64 KiB is the limit", &secretmanagerpb.SecretPayload{Data: make([]byte, 64*1024)}, codes.OK, false},
		{"over 64 KiB", &secretmanagerpb.SecretPayload{Data: make([]byte, 64*1024+1)}, codes.InvalidArgument, false},
		{"no payload", nil, codes.InvalidArgument, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := c.AddSecretVersion(t.Context(), &secretmanagerpb.AddSecretVersionRequest{Parent: secret, Payload: tt.payload})
			wantCode(t, err, tt.wantCode)
			if err != nil {
				return
			}
			if got := v.GetClientSpecifiedPayloadChecksum(); got != tt.wantClientCk {
				t.Errorf("client_specified_payload_checksum: got %v, want %v", got, tt.wantClientCk)
			}
			if got := v.GetState(); got != secretmanagerpb.SecretVersion_ENABLED {
				t.Errorf("state: got %v, want ENABLED", got)
			}
		})
	}
}

func TestVersionStates(t *testing.T) {
	c, project := newClient(t)
	secret := createSecret(t, c, project, "rotating").GetName()
	v1 := addVersion(t, c, secret, "old")
	v2 := addVersion(t, c, secret, "new")
	latest := secret + "/versions/latest"

	// Steps run in order: each starts from the state the previous one left.
	steps := []struct {
		name       string
		do         func() error
		wantCode   codes.Code
		accessName string
		accessCode codes.Code
	}{
		{"disable v1", disable(c, v1), codes.OK, v1, codes.FailedPrecondition},
		{"disable again is a no-op", disable(c, v1), codes.OK, v1, codes.FailedPrecondition},
		{"v2 unaffected", nil, codes.OK, v2, codes.OK},
		{"enable v1", enable(c, v1), codes.OK, v1, codes.OK},
		{"disable v2", disable(c, v2), codes.OK, v2, codes.FailedPrecondition},
		{"latest is v2 even when disabled", nil, codes.OK, latest, codes.FailedPrecondition},
		{"destroy v2", destroy(c, v2), codes.OK, v2, codes.FailedPrecondition},
		{"destroyed cannot be enabled", enable(c, v2), codes.FailedPrecondition, v2, codes.FailedPrecondition},
		{"destroyed cannot be disabled", disable(c, v2), codes.FailedPrecondition, v2, codes.FailedPrecondition},
		{"destroyed cannot be destroyed", destroy(c, v2), codes.FailedPrecondition, latest, codes.FailedPrecondition},
		{"missing version", disable(c, versionName(secret, 9)), codes.NotFound, versionName(secret, 9), codes.NotFound},
	}
	for _, st := range steps {
		if st.do != nil {
			if got := codeOf(st.do()); got != st.wantCode {
				t.Fatalf("%s: got code %v, want %v", st.name, got, st.wantCode)
			}
		}
		_, err := access(t.Context(), c, st.accessName)
		if got := codeOf(err); got != st.accessCode {
			t.Fatalf("%s: access %s: got code %v (%v), want %v", st.name, st.accessName, got, err, st.accessCode)
		}
	}

	got, err := c.GetSecretVersion(t.Context(), &secretmanagerpb.GetSecretVersionRequest{Name: v2})
	if err != nil {
		t.Fatalf("GetSecretVersion: %v", err)
	}
	if got.GetState() != secretmanagerpb.SecretVersion_DESTROYED || got.GetDestroyTime() == nil {
		t.Errorf("destroyed version: got state %v destroy_time %v, want DESTROYED with a destroy_time", got.GetState(), got.GetDestroyTime())
	}
}

func TestVersionEtag(t *testing.T) {
	c, project := newClient(t)
	secret := createSecret(t, c, project, "etagged").GetName()
	v := addVersion(t, c, secret, "x")
	before, err := c.GetSecretVersion(t.Context(), &secretmanagerpb.GetSecretVersionRequest{Name: v})
	if err != nil {
		t.Fatalf("GetSecretVersion: %v", err)
	}
	// An enable of an enabled version changes nothing but the etag, so a
	// disable holding the old etag must fail: that is the real contract.
	after, err := c.EnableSecretVersion(t.Context(), &secretmanagerpb.EnableSecretVersionRequest{Name: v, Etag: before.GetEtag()})
	if err != nil {
		t.Fatalf("EnableSecretVersion with current etag: %v", err)
	}
	if after.GetEtag() == before.GetEtag() {
		t.Errorf("etag after enable: got %s unchanged, want a new one", after.GetEtag())
	}
	_, err = c.DisableSecretVersion(t.Context(), &secretmanagerpb.DisableSecretVersionRequest{Name: v, Etag: before.GetEtag()})
	wantCode(t, err, codes.FailedPrecondition)
}

func TestListSecretVersionsPaging(t *testing.T) {
	c, project := newClient(t)
	secret := createSecret(t, c, project, "many").GetName()
	for range 5 {
		addVersion(t, c, secret, "x")
	}
	pager := iterator.NewPager(c.ListSecretVersions(t.Context(), &secretmanagerpb.ListSecretVersionsRequest{Parent: secret}), 2, "")
	var pages [][]string
	for {
		var versions []*secretmanagerpb.SecretVersion
		next, err := pager.NextPage(&versions)
		if err != nil {
			t.Fatalf("NextPage: %v", err)
		}
		var names []string
		for _, v := range versions {
			names = append(names, strings.TrimPrefix(v.GetName(), secret+"/"))
		}
		pages = append(pages, names)
		if next == "" {
			break
		}
	}
	got := strings.Join(joinPages(pages), " | ")
	want := "versions/5 versions/4 | versions/3 versions/2 | versions/1"
	if got != want {
		t.Errorf("pages: got %q, want %q", got, want)
	}
}

func TestConcurrentAddVersion(t *testing.T) {
	c, project := newClient(t)
	secret := createSecret(t, c, project, "busy").GetName()
	const n = 20
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		names = map[string]bool{}
	)
	for range n {
		wg.Go(func() {
			v, err := c.AddSecretVersion(t.Context(), &secretmanagerpb.AddSecretVersionRequest{
				Parent: secret, Payload: &secretmanagerpb.SecretPayload{Data: []byte("x")},
			})
			if err != nil {
				t.Errorf("AddSecretVersion: %v", err)
				return
			}
			mu.Lock()
			names[v.GetName()] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	for i := 1; i <= n; i++ {
		if !names[versionName(secret, i)] {
			t.Errorf("version %d: got none, want every number 1..%d used exactly once (got %d names)", i, n, len(names))
		}
	}
}
