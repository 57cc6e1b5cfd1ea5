package secretmanager

import (
	"strconv"
	"sync"
	"time"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Server is the emulator's in-memory state and its implementation of the
// Secret Manager gRPC service. It is safe for concurrent use. Register it on
// any grpc.Server with secretmanagerpb.RegisterSecretManagerServiceServer, or
// let Serve do that.
type Server struct {
	// The IAM, locations and managed-rotation methods answer UNIMPLEMENTED.
	secretmanagerpb.UnimplementedSecretManagerServiceServer

	// One lock for everything: requests are tiny and in memory, and a single
	// lock makes every RPC trivially atomic, as each is in the real service.
	mu      sync.Mutex
	secrets map[secretName]*secret
	// created orders secrets by creation: create_time alone can tie.
	created uint64
	// etags makes every etag distinct, as the real service's are.
	etags uint64
}

// secret is one stored secret; its metadata is owned by the Server and only
// clones leave it.
type secret struct {
	seq      uint64
	meta     *secretmanagerpb.Secret
	versions []*version // versions[i] is version number i+1
}

// version is one stored secret version; data is nil once destroyed.
type version struct {
	num    uint64
	meta   *secretmanagerpb.SecretVersion
	data   []byte
	crc32c int64
}

// NewServer returns an empty emulator state.
func NewServer() *Server {
	return &Server{secrets: make(map[secretName]*secret)}
}

// nextEtag returns a fresh etag, quoted as the real API quotes them (AIP-154).
// Callers hold s.mu.
func (s *Server) nextEtag() string {
	s.etags++
	return `"` + strconv.FormatUint(uint64(time.Now().UnixMicro()), 16) + "-" + strconv.FormatUint(s.etags, 16) + `"`
}

// lookupSecret returns the stored secret or NOT_FOUND. Callers hold s.mu.
func (s *Server) lookupSecret(name secretName) (*secret, error) {
	sec, ok := s.secrets[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Secret [%s] not found or has no versions.", name)
	}
	return sec, nil
}

// lookupVersion resolves a version name, "latest" included, to the stored
// version. Like the real service, "latest" is the most recently created
// version in any state. Callers hold s.mu.
func (s *Server) lookupVersion(name string) (*version, error) {
	secName, id, err := parseVersionName(name)
	if err != nil {
		return nil, err
	}
	sec, err := s.lookupSecret(secName)
	if err != nil {
		return nil, err
	}
	if id == latestAlias {
		if len(sec.versions) == 0 {
			return nil, status.Errorf(codes.NotFound, "Secret [%s] not found or has no versions.", secName)
		}
		return sec.versions[len(sec.versions)-1], nil
	}
	num, err := strconv.ParseUint(id, 10, 64)
	if err != nil || num < 1 || num > uint64(len(sec.versions)) {
		// A non-numeric ID would be an alias, and no alias exists here.
		return nil, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", name)
	}
	return sec.versions[num-1], nil
}

// checkEtag enforces an optional etag as the real service does.
func checkEtag(given, current string) error {
	if given != "" && given != current {
		return status.Errorf(codes.FailedPrecondition, "etag %s does not match the current etag %s", given, current)
	}
	return nil
}
