package secretmanager

import (
	"regexp"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Limits the real service documents for Secret metadata.
const (
	maxLabels          = 64
	maxLabelBytes      = 128
	maxAnnotationBytes = 16 * 1024
)

var (
	labelKeyPattern      = regexp.MustCompile(`^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$`)
	labelValuePattern    = regexp.MustCompile(`^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$`)
	annotationKeyPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$`)
)

// validateLabels applies the real label rules, so that a label the service
// would refuse (an upper-case value, say) fails here first rather than in
// production.
func validateLabels(labels map[string]string) error {
	if len(labels) > maxLabels {
		return status.Errorf(codes.InvalidArgument, "too many labels: %d, at most %d", len(labels), maxLabels)
	}
	for k, v := range labels {
		if len(k) > maxLabelBytes || !labelKeyPattern.MatchString(k) {
			return status.Errorf(codes.InvalidArgument, "invalid label key %q", k)
		}
		if len(v) > maxLabelBytes || !labelValuePattern.MatchString(v) {
			return status.Errorf(codes.InvalidArgument, "invalid value for label %q", k)
		}
	}
	return nil
}

func validateAnnotations(annotations map[string]string) error {
	size := 0
	for k, v := range annotations {
		if !annotationKeyPattern.MatchString(k) {
			return status.Errorf(codes.InvalidArgument, "invalid annotation key %q", k)
		}
		size += len(k) + len(v)
	}
	if size >= maxAnnotationBytes {
		return status.Errorf(codes.InvalidArgument, "annotations total %d bytes, must be under %d", size, maxAnnotationBytes)
	}
	return nil
}

// validateReplication requires a replication policy, as the real service does
// for a global secret, and refuses the parts the emulator cannot honour.
func validateReplication(r *secretmanagerpb.Replication) error {
	switch {
	case r.GetAutomatic() != nil:
		if r.GetAutomatic().GetCustomerManagedEncryption() != nil {
			return errNotEmulated("replication.automatic.customer_managed_encryption")
		}
	case r.GetUserManaged() != nil:
		replicas := r.GetUserManaged().GetReplicas()
		if len(replicas) == 0 {
			return status.Error(codes.InvalidArgument, "replication.user_managed.replicas must not be empty")
		}
		for _, rep := range replicas {
			if rep.GetLocation() == "" {
				return status.Error(codes.InvalidArgument, "replication.user_managed.replicas.location is required")
			}
			if rep.GetCustomerManagedEncryption() != nil {
				return errNotEmulated("replication.user_managed.replicas.customer_managed_encryption")
			}
		}
	default:
		return status.Error(codes.InvalidArgument, "secret.replication is required")
	}
	return nil
}

// unemulatedField names the first field of s that asks for a feature the
// emulator does not have, or returns "".
func unemulatedField(s *secretmanagerpb.Secret) string {
	switch {
	case len(s.GetTopics()) > 0:
		return "topics"
	case s.GetExpiration() != nil:
		return "expire_time/ttl"
	case s.GetRotation() != nil:
		return "rotation"
	case len(s.GetVersionAliases()) > 0:
		return "version_aliases"
	case s.GetVersionDestroyTtl() != nil:
		return "version_destroy_ttl"
	case s.GetCustomerManagedEncryption() != nil:
		return "customer_managed_encryption"
	case len(s.GetTags()) > 0:
		return "tags"
	case s.GetSecretType() != secretmanagerpb.Secret_SECRET_TYPE_UNSPECIFIED:
		return "secret_type"
	}
	return ""
}

// replicationStatus is what a new version reports for the secret's policy.
func replicationStatus(r *secretmanagerpb.Replication) *secretmanagerpb.ReplicationStatus {
	if um := r.GetUserManaged(); um != nil {
		replicas := make([]*secretmanagerpb.ReplicationStatus_UserManagedStatus_ReplicaStatus, 0, len(um.GetReplicas()))
		for _, rep := range um.GetReplicas() {
			replicas = append(replicas, &secretmanagerpb.ReplicationStatus_UserManagedStatus_ReplicaStatus{Location: rep.GetLocation()})
		}
		return &secretmanagerpb.ReplicationStatus{ReplicationStatus: &secretmanagerpb.ReplicationStatus_UserManaged{
			UserManaged: &secretmanagerpb.ReplicationStatus_UserManagedStatus{Replicas: replicas},
		}}
	}
	return &secretmanagerpb.ReplicationStatus{ReplicationStatus: &secretmanagerpb.ReplicationStatus_Automatic{
		Automatic: &secretmanagerpb.ReplicationStatus_AutomaticStatus{},
	}}
}

func errNotEmulated(field string) error {
	return status.Errorf(codes.Unimplemented, "%s is not emulated", field)
}
