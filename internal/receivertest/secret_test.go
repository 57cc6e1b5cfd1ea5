package receivertest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/functions/receiver"
	smemu "github.com/hookrun/hookrun/internal/emulator/secretmanager"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/secretmanager"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/testenv"
)

// Open reads WEBHOOK_SECRET_NAME from Secret Manager, here hookrun's
// in-process emulator: a bare whsec_ secret, or the endpoint secret JSON
// hookrun itself stores.
func TestOpenReadsSecretManager(t *testing.T) {
	ctx := t.Context()
	em, err := smemu.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start Secret Manager emulator: %v", err)
	}
	t.Cleanup(func() { em.Close() })
	project := testenv.ProjectID(t)
	store, err := secretmanager.New(ctx, secretmanager.Config{ProjectID: project, Endpoint: em.Addr()})
	if err != nil {
		t.Fatalf("secretmanager.New: %v", err)
	}
	defer store.Close()

	secret := signature.NewSecret()
	endpointSecret, err := json.Marshal(hookrun.EndpointSecret{SigningSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, payload string }{
		{"bare", secret},
		{"endpoint-secret", string(endpointSecret)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			version, err := store.Create(ctx, "receiver-"+tt.name, []byte(tt.payload))
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			rc, err := receiver.Open(ctx, receiver.Config{SecretName: version, SecretManagerEndpoint: em.Addr()})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer rc.Close()
			if w := post(t, rc, secret, "msg_1", testBody); w.Code != http.StatusNoContent {
				t.Errorf("signed webhook: %d, want 204 (body %s)", w.Code, w.Body)
			}
		})
	}
	_, err = receiver.Open(ctx, receiver.Config{SecretName: "projects/" + project + "/secrets/missing/versions/1", SecretManagerEndpoint: em.Addr()})
	if status.Code(err) != codes.NotFound {
		t.Errorf("Open with a missing secret: %v, want NOT_FOUND", err)
	}
}
