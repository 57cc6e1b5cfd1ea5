package receivertest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/functions/receiver"
	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/signature"
	"github.com/hookrun/hookrun/internal/testenv"
)

// Open reads WEBHOOK_SECRET_NAME from Secret Manager, here hookrun's
// in-process emulator: a bare whsec_ secret, or the endpoint secret JSON
// hookrun itself stores.
func TestOpenReadsSecretManager(t *testing.T) {
	ctx := t.Context()
	store, addr := secretManager(t)
	project := testenv.ProjectID(t)

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
			rc, err := receiver.Open(ctx, receiver.Config{SecretName: version, SecretManagerEndpoint: addr})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer rc.Close()
			if w := post(t, rc, secret, "msg_1", testBody); w.Code != http.StatusNoContent {
				t.Errorf("signed webhook: %d, want 204 (body %s)", w.Code, w.Body)
			}
		})
	}
	_, err = receiver.Open(ctx, receiver.Config{SecretName: "projects/" + project + "/secrets/missing/versions/1", SecretManagerEndpoint: addr})
	if status.Code(err) != codes.NotFound {
		t.Errorf("Open with a missing secret: %v, want NOT_FOUND", err)
	}
}
