package secretmanager

import (
	"regexp"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// latestAlias is the version ID the real API resolves to the most recently
// created version.
const latestAlias = "latest"

// secretIDPattern is the secret ID syntax the real service enforces.
var secretIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// secretName identifies a secret: projects/{project}/secrets/{id}.
type secretName struct {
	project string
	id      string
}

func (n secretName) String() string { return "projects/" + n.project + "/secrets/" + n.id }

// versionName renders the resource name of version number num of the secret.
func (n secretName) versionName(num uint64) string {
	return n.String() + "/versions/" + strconv.FormatUint(num, 10)
}

// parseProject parses a parent of the form projects/{project}.
func parseProject(parent string) (string, error) {
	parts := strings.Split(parent, "/")
	if len(parts) >= 3 && parts[0] == "projects" && parts[2] == "locations" {
		return "", errRegional(parent)
	}
	if len(parts) != 2 || parts[0] != "projects" || parts[1] == "" {
		return "", status.Errorf(codes.InvalidArgument, "invalid parent %q: want projects/{project}", parent)
	}
	return parts[1], nil
}

// parseSecretName parses projects/{project}/secrets/{id}.
func parseSecretName(name string) (secretName, error) {
	parts := strings.Split(name, "/")
	if len(parts) >= 3 && parts[0] == "projects" && parts[2] == "locations" {
		return secretName{}, errRegional(name)
	}
	if len(parts) != 4 || parts[0] != "projects" || parts[1] == "" || parts[2] != "secrets" {
		return secretName{}, status.Errorf(codes.InvalidArgument, "invalid secret name %q: want projects/{project}/secrets/{secret}", name)
	}
	if err := validateSecretID(parts[3]); err != nil {
		return secretName{}, err
	}
	return secretName{project: parts[1], id: parts[3]}, nil
}

// parseVersionName parses projects/{project}/secrets/{id}/versions/{version}
// and returns the secret and the raw version ID ("latest" or a number).
func parseVersionName(name string) (secretName, string, error) {
	i := strings.LastIndex(name, "/versions/")
	if i < 0 {
		if strings.Contains(name, "/locations/") {
			return secretName{}, "", errRegional(name)
		}
		return secretName{}, "", status.Errorf(codes.InvalidArgument, "invalid secret version name %q: want projects/{project}/secrets/{secret}/versions/{version}", name)
	}
	secret, err := parseSecretName(name[:i])
	if err != nil {
		return secretName{}, "", err
	}
	version := name[i+len("/versions/"):]
	if version == "" || strings.Contains(version, "/") {
		return secretName{}, "", status.Errorf(codes.InvalidArgument, "invalid secret version name %q: want projects/{project}/secrets/{secret}/versions/{version}", name)
	}
	return secret, version, nil
}

func validateSecretID(id string) error {
	if !secretIDPattern.MatchString(id) {
		return status.Errorf(codes.InvalidArgument,
			"invalid secret ID %q: it must be 1 to 255 characters of letters, digits, hyphen and underscore", id)
	}
	return nil
}

func errRegional(name string) error {
	return status.Errorf(codes.Unimplemented, "%s: regional secrets (projects/*/locations/*) are not emulated", name)
}
