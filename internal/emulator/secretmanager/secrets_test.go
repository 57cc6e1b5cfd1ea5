package secretmanager_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

func TestCreateSecretErrors(t *testing.T) {
	c, project := newClient(t)
	createSecret(t, c, project, "taken")

	tests := []struct {
		name   string
		parent string
		id     string
		secret *secretmanagerpb.Secret
		want   codes.Code
	}{
		{"ok", project, "fresh_ID-1", &secretmanagerpb.Secret{Replication: automatic()}, codes.OK},
		{"duplicate", project, "taken", &secretmanagerpb.Secret{Replication: automatic()}, codes.AlreadyExists},
		{"same id in another project", project + "-other", "taken", &secretmanagerpb.Secret{Replication: automatic()}, codes.OK},
		{"invalid character", project, "no.dots", &secretmanagerpb.Secret{Replication: automatic()}, codes.InvalidArgument},
		{"empty id", project, "", &secretmanagerpb.Secret{Replication: automatic()}, codes.InvalidArgument},
		{"id of 255", project, strings.Repeat("a", 255), &secretmanagerpb.Secret{Replication: automatic()}, codes.OK},
		{"id of 256", project, strings.Repeat("a", 256), &secretmanagerpb.Secret{Replication: automatic()}, codes.InvalidArgument},
		{"bad parent", "project/x", "a", &secretmanagerpb.Secret{Replication: automatic()}, codes.InvalidArgument},
		{"regional", project + "/locations/us-east1", "a", &secretmanagerpb.Secret{Replication: automatic()}, codes.Unimplemented},
		{"no replication", project, "norep", &secretmanagerpb.Secret{}, codes.InvalidArgument},
		{"upper-case label", project, "label", &secretmanagerpb.Secret{Replication: automatic(), Labels: map[string]string{"app": "HookRun"}}, codes.InvalidArgument},
		{"ttl is not emulated", project, "ttl", &secretmanagerpb.Secret{Replication: automatic(), Expiration: &secretmanagerpb.Secret_Ttl{Ttl: durationpb.New(60e9)}}, codes.Unimplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.CreateSecret(t.Context(), &secretmanagerpb.CreateSecretRequest{Parent: tt.parent, SecretId: tt.id, Secret: tt.secret})
			wantCode(t, err, tt.want)
		})
	}
}

func TestNotFound(t *testing.T) {
	c, project := newClient(t)
	secret := createSecret(t, c, project, "empty").GetName()
	missing := project + "/secrets/missing"

	tests := []struct {
		name string
		call func() error
	}{
		{"get secret", func() error {
			_, err := c.GetSecret(t.Context(), &secretmanagerpb.GetSecretRequest{Name: missing})
			return err
		}},
		{"add version", func() error {
			_, err := c.AddSecretVersion(t.Context(), &secretmanagerpb.AddSecretVersionRequest{Parent: missing, Payload: &secretmanagerpb.SecretPayload{Data: []byte("x")}})
			return err
		}},
		{"access latest of a secret without versions", func() error {
			_, err := access(t.Context(), c, secret+"/versions/latest")
			return err
		}},
		{"access unknown alias", func() error {
			_, err := access(t.Context(), c, secret+"/versions/current")
			return err
		}},
		{"get version", func() error {
			_, err := c.GetSecretVersion(t.Context(), &secretmanagerpb.GetSecretVersionRequest{Name: missing + "/versions/1"})
			return err
		}},
		{"delete", func() error {
			return c.DeleteSecret(t.Context(), &secretmanagerpb.DeleteSecretRequest{Name: missing})
		}},
		{"list versions", func() error {
			_, err := c.ListSecretVersions(t.Context(), &secretmanagerpb.ListSecretVersionsRequest{Parent: missing}).Next()
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), codes.NotFound) })
	}
}

func TestUpdateSecret(t *testing.T) {
	c, project := newClient(t)
	created, err := c.CreateSecret(t.Context(), &secretmanagerpb.CreateSecretRequest{
		Parent:   project,
		SecretId: "meta",
		Secret: &secretmanagerpb.Secret{
			Replication: automatic(),
			Labels:      map[string]string{"app": "hookrun"},
			Annotations: map[string]string{"owner": "team-a"},
		},
	})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}

	update := func(labels map[string]string, etag string, paths ...string) (*secretmanagerpb.Secret, error) {
		return c.UpdateSecret(t.Context(), &secretmanagerpb.UpdateSecretRequest{
			Secret: &secretmanagerpb.Secret{
				Name:        created.GetName(),
				Labels:      labels,
				Annotations: map[string]string{"ignored": "unless-masked"},
				Etag:        etag,
			},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: paths},
		})
	}
	got, err := update(map[string]string{"app": "hookrun", "tier": "gold"}, created.GetEtag(), "labels")
	if err != nil {
		t.Fatalf("UpdateSecret labels: %v", err)
	}
	if want := map[string]string{"app": "hookrun", "tier": "gold"}; !maps.Equal(got.GetLabels(), want) {
		t.Errorf("labels: got %v, want %v", got.GetLabels(), want)
	}
	if want := map[string]string{"owner": "team-a"}; !maps.Equal(got.GetAnnotations(), want) {
		t.Errorf("annotations outside the mask: got %v, want unchanged %v", got.GetAnnotations(), want)
	}
	if got.GetEtag() == created.GetEtag() {
		t.Errorf("etag: got %s unchanged, want a new one", got.GetEtag())
	}

	errTests := []struct {
		name  string
		etag  string
		paths []string
		want  codes.Code
	}{
		{"stale etag", created.GetEtag(), []string{"labels"}, codes.FailedPrecondition},
		{"no mask", "", nil, codes.InvalidArgument},
		{"immutable field", "", []string{"replication"}, codes.InvalidArgument},
		{"rotation is not emulated", "", []string{"rotation"}, codes.Unimplemented},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := update(nil, tt.etag, tt.paths...)
			wantCode(t, err, tt.want)
		})
	}
}

func TestDeleteSecret(t *testing.T) {
	c, project := newClient(t)
	s := createSecret(t, c, project, "doomed")
	addVersion(t, c, s.GetName(), "x")

	err := c.DeleteSecret(t.Context(), &secretmanagerpb.DeleteSecretRequest{Name: s.GetName(), Etag: `"stale"`})
	wantCode(t, err, codes.FailedPrecondition)
	if err := c.DeleteSecret(t.Context(), &secretmanagerpb.DeleteSecretRequest{Name: s.GetName(), Etag: s.GetEtag()}); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	_, err = access(t.Context(), c, versionName(s.GetName(), 1))
	wantCode(t, err, codes.NotFound)

	// A secret created again under the same ID starts over at version 1.
	createSecret(t, c, project, "doomed")
	if got, want := addVersion(t, c, s.GetName(), "y"), versionName(s.GetName(), 1); got != want {
		t.Errorf("first version after re-create: got %q, want %q", got, want)
	}
}

func TestListSecretsPaging(t *testing.T) {
	c, project := newClient(t)
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		createSecret(t, c, project, id)
	}
	createSecret(t, c, project+"-other", "not-listed")

	it := c.ListSecrets(t.Context(), &secretmanagerpb.ListSecretsRequest{Parent: project})
	pager := iterator.NewPager(it, 2, "")
	var pages [][]string
	for {
		var secrets []*secretmanagerpb.Secret
		next, err := pager.NextPage(&secrets)
		if err != nil {
			t.Fatalf("NextPage: %v", err)
		}
		var ids []string
		for _, s := range secrets {
			ids = append(ids, strings.TrimPrefix(s.GetName(), project+"/secrets/"))
		}
		pages = append(pages, ids)
		if next == "" {
			break
		}
	}
	if got, want := strings.Join(joinPages(pages), " | "), "e d | c b | a"; got != want {
		t.Errorf("pages: got %q, want %q (newest first)", got, want)
	}

	// The iterator walks every page on its own.
	n := 0
	for it := c.ListSecrets(t.Context(), &secretmanagerpb.ListSecretsRequest{Parent: project, PageSize: 1}); ; n++ {
		_, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
	}
	if n != 5 {
		t.Errorf("secrets listed: got %d, want 5", n)
	}
}

func TestListBadPageToken(t *testing.T) {
	c, project := newClient(t)
	for _, id := range []string{"a", "b"} {
		createSecret(t, c, project, id)
	}
	tests := []struct {
		name   string
		parent string
		token  string
	}{
		{"garbage", project, "not-a-token!"},
		{"from another parent", project + "-other", pageToken(t, c, project)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.ListSecrets(t.Context(), &secretmanagerpb.ListSecretsRequest{Parent: tt.parent, PageToken: tt.token}).Next()
			wantCode(t, err, codes.InvalidArgument)
		})
	}
}
