package secretmanager_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	smclient "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	emulator "github.com/hookrun/hookrun/internal/emulator/secretmanager"
	"github.com/hookrun/hookrun/internal/testenv"
)

// newClient starts an emulator on a free loopback port and returns the
// official client connected to it, configured exactly as production code
// configures it for an emulator, plus a project no other test uses.
func newClient(t *testing.T) (*smclient.Client, string) {
	t.Helper()
	em, err := emulator.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		if err := em.Close(); err != nil {
			t.Errorf("Close emulator: %v", err)
		}
	})
	c, err := smclient.NewClient(context.Background(),
		option.WithEndpoint(em.Addr()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	// Registered after the emulator's cleanup, so it runs first: the client
	// hangs up before the emulator stops.
	t.Cleanup(func() { c.Close() })
	return c, "projects/" + testenv.ProjectID(t)
}

func automatic() *secretmanagerpb.Replication {
	return &secretmanagerpb.Replication{Replication: &secretmanagerpb.Replication_Automatic_{
		Automatic: &secretmanagerpb.Replication_Automatic{},
	}}
}

// createSecret creates secret id in project with automatic replication.
func createSecret(t *testing.T, c *smclient.Client, project, id string) *secretmanagerpb.Secret {
	t.Helper()
	s, err := c.CreateSecret(t.Context(), &secretmanagerpb.CreateSecretRequest{
		Parent:   project,
		SecretId: id,
		Secret:   &secretmanagerpb.Secret{Replication: automatic()},
	})
	if err != nil {
		t.Fatalf("CreateSecret %s: %v", id, err)
	}
	return s
}

// addVersion adds a version holding data to secret and returns its name.
func addVersion(t *testing.T, c *smclient.Client, secret string, data string) string {
	t.Helper()
	v, err := c.AddSecretVersion(t.Context(), &secretmanagerpb.AddSecretVersionRequest{
		Parent:  secret,
		Payload: &secretmanagerpb.SecretPayload{Data: []byte(data)},
	})
	if err != nil {
		t.Fatalf("AddSecretVersion %s: %v", secret, err)
	}
	return v.GetName()
}

func access(ctx context.Context, c *smclient.Client, name string) (string, error) {
	resp, err := c.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: name})
	if err != nil {
		return "", err
	}
	return string(resp.GetPayload().GetData()), nil
}

// wantCode fails the test unless err carries the gRPC code want.
func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Errorf("got code %v (err %v), want %v", got, err, want)
	}
}

func versionName(secret string, n int) string { return fmt.Sprintf("%s/versions/%d", secret, n) }

func codeOf(err error) codes.Code { return status.Code(err) }

// joinPages renders each page as its names separated by spaces.
func joinPages(pages [][]string) []string {
	out := make([]string, len(pages))
	for i, p := range pages {
		out[i] = strings.Join(p, " ")
	}
	return out
}

// The state changes, as deferred calls for step tables.

func enable(c *smclient.Client, name string) func() error {
	return func() error {
		_, err := c.EnableSecretVersion(context.Background(), &secretmanagerpb.EnableSecretVersionRequest{Name: name})
		return err
	}
}

func disable(c *smclient.Client, name string) func() error {
	return func() error {
		_, err := c.DisableSecretVersion(context.Background(), &secretmanagerpb.DisableSecretVersionRequest{Name: name})
		return err
	}
}

func destroy(c *smclient.Client, name string) func() error {
	return func() error {
		_, err := c.DestroySecretVersion(context.Background(), &secretmanagerpb.DestroySecretVersionRequest{Name: name})
		return err
	}
}

// pageToken returns the token for the second one-item page of project's
// secrets.
func pageToken(t *testing.T, c *smclient.Client, project string) string {
	t.Helper()
	var first []*secretmanagerpb.Secret
	token, err := iterator.NewPager(c.ListSecrets(t.Context(), &secretmanagerpb.ListSecretsRequest{Parent: project}), 1, "").NextPage(&first)
	if err != nil {
		t.Fatalf("ListSecrets: %v", err)
	}
	if token == "" {
		t.Fatalf("page token: got none, want one: %s has more than one secret", project)
	}
	return token
}
