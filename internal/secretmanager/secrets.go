package secretmanager

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"regexp"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// maxPayloadBytes is Secret Manager's limit on one version's data.
const maxPayloadBytes = 64 * 1024

// secretIDPattern is the secret ID syntax Secret Manager accepts. Checking it
// here keeps an ID such as "a/versions/1" from forming a different resource
// name than the one meant.
var secretIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// castagnoli is the CRC32C table of the API's data_crc32c checksums.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Create creates secret secretID, labelled app=hookrun, with one version
// holding payload, and returns that version's resource name,
// "projects/{project}/secrets/{secretID}/versions/1". The real service names
// the project by number there, the emulator by the ID it was given; either
// way, store the name as returned and pass it back to Access.
//
// If the secret already exists, as when a Create is retried after the secret
// was made but before its version was, Create adds a version to it instead,
// so a retry never fails and never loses the payload.
func (s *Store) Create(ctx context.Context, secretID string, payload []byte) (version string, err error) {
	if err := checkInput(secretID, payload); err != nil {
		return "", err
	}
	_, err = s.client.CreateSecret(ctx, &secretmanagerpb.CreateSecretRequest{
		Parent:   s.project,
		SecretId: secretID,
		Secret: &secretmanagerpb.Secret{
			Replication: &secretmanagerpb.Replication{Replication: &secretmanagerpb.Replication_Automatic_{
				Automatic: &secretmanagerpb.Replication_Automatic{},
			}},
			Labels: map[string]string{"app": "hookrun"},
		},
	})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return "", wrap("create secret "+secretID, err)
	}
	return s.AddVersion(ctx, secretID, payload)
}

// AddVersion adds a version holding payload to secret secretID, as a
// rotation does, and returns the new version's resource name. The older
// versions stay enabled until DisableVersion.
func (s *Store) AddVersion(ctx context.Context, secretID string, payload []byte) (string, error) {
	if err := checkInput(secretID, payload); err != nil {
		return "", err
	}
	// The checksum lets the service refuse a payload damaged on the way.
	sum := int64(crc32.Checksum(payload, castagnoli))
	v, err := s.client.AddSecretVersion(ctx, &secretmanagerpb.AddSecretVersionRequest{
		Parent:  s.secretName(secretID),
		Payload: &secretmanagerpb.SecretPayload{Data: payload, DataCrc32C: &sum},
	})
	if err != nil {
		return "", wrap("add version to secret "+secretID, err)
	}
	return v.GetName(), nil
}

// Access returns the payload of version, a resource name that Create or
// AddVersion returned. A version that is missing, or whose secret was
// deleted, is ErrNotFound; a disabled or destroyed one is another error.
func (s *Store) Access(ctx context.Context, version string) ([]byte, error) {
	resp, err := s.client.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: version})
	if err != nil {
		return nil, wrap("access secret version "+version, err)
	}
	data := resp.GetPayload().GetData()
	if want := resp.GetPayload().DataCrc32C; want != nil && *want != int64(crc32.Checksum(data, castagnoli)) {
		return nil, fmt.Errorf("access secret version %s: payload does not match its checksum", version)
	}
	return data, nil
}

// Delete deletes secret secretID and all its versions. Deleting a secret that
// does not exist succeeds, so a retried or repeated delete is harmless.
func (s *Store) Delete(ctx context.Context, secretID string) error {
	if err := checkInput(secretID, nil); err != nil {
		return err
	}
	err := s.client.DeleteSecret(ctx, &secretmanagerpb.DeleteSecretRequest{Name: s.secretName(secretID)})
	if err != nil && status.Code(err) != codes.NotFound {
		return wrap("delete secret "+secretID, err)
	}
	return nil
}

// DisableVersion disables version, ending a rotation's grace period: Access
// fails for it from then on. Disabling a disabled version succeeds, and so
// does disabling one whose secret was deleted.
func (s *Store) DisableVersion(ctx context.Context, version string) error {
	_, err := s.client.DisableSecretVersion(ctx, &secretmanagerpb.DisableSecretVersionRequest{Name: version})
	if err != nil {
		err = wrap("disable secret version "+version, err)
		if errors.Is(err, ErrNotFound) {
			return nil // deleted with its secret: nothing left to disable
		}
		return err
	}
	return nil
}

func (s *Store) secretName(secretID string) string { return s.project + "/secrets/" + secretID }

// checkInput refuses what Secret Manager would refuse, without a round trip.
// Its errors give the payload's size, never its content.
func checkInput(secretID string, payload []byte) error {
	if !secretIDPattern.MatchString(secretID) {
		return refused(fmt.Errorf("invalid secret ID %q: want 1 to 255 letters, digits, hyphens or underscores", secretID))
	}
	if len(payload) > maxPayloadBytes {
		return refused(fmt.Errorf("secret %s: payload is %d bytes, Secret Manager takes at most %d", secretID, len(payload), maxPayloadBytes))
	}
	return nil
}

// wrap adds the failed operation to err, ErrNotFound when the service
// said NOT_FOUND, marks a refusal as one, and makes it
// hookrun.CodeUnavailable when the service did not answer in time or is
// unavailable, so that the API answers 503 and the caller retries.
// Service errors name resources, never payloads.
func wrap(op string, err error) error {
	switch status.Code(err) {
	case codes.NotFound:
		return fmt.Errorf("%s: %w: %w", op, ErrNotFound, err)
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return refused(fmt.Errorf("%s: %w", op, err))
	}
	if transient(err) {
		return hookrun.WrapError(hookrun.CodeUnavailable, fmt.Errorf("%s: %w", op, err), "secret storage is unavailable; retry")
	}
	return fmt.Errorf("%s: %w", op, err)
}

// refused codes err, a request Secret Manager refuses whenever it is
// sent, as hookrun.CodeInternal: the caller's input was checked before,
// so a refusal is hookrun's bug or state, and no retry changes it (an
// outage, CodeUnavailable, is what callers retry).
func refused(err error) error {
	return hookrun.WrapError(hookrun.CodeInternal, err, "Secret Manager refused the request")
}

// transient reports whether err is Secret Manager failing for now: a retry
// later may succeed.
func transient(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}
