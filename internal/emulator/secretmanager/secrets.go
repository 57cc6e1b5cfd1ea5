package secretmanager

import (
	"cmp"
	"context"
	"maps"
	"slices"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// CreateSecret creates a secret without versions.
func (s *Server) CreateSecret(_ context.Context, req *secretmanagerpb.CreateSecretRequest) (*secretmanagerpb.Secret, error) {
	project, err := parseProject(req.GetParent())
	if err != nil {
		return nil, err
	}
	if err := validateSecretID(req.GetSecretId()); err != nil {
		return nil, err
	}
	in := req.GetSecret()
	if in == nil {
		return nil, status.Error(codes.InvalidArgument, "secret is required")
	}
	if field := unemulatedField(in); field != "" {
		return nil, errNotEmulated("secret." + field)
	}
	if err := validateReplication(in.GetReplication()); err != nil {
		return nil, err
	}
	if err := validateLabels(in.GetLabels()); err != nil {
		return nil, err
	}
	if err := validateAnnotations(in.GetAnnotations()); err != nil {
		return nil, err
	}
	name := secretName{project: project, id: req.GetSecretId()}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.secrets[name]; exists {
		return nil, status.Errorf(codes.AlreadyExists, "Secret [%s] already exists.", name)
	}
	s.created++
	sec := &secret{
		seq: s.created,
		meta: &secretmanagerpb.Secret{
			Name:        name.String(),
			Replication: proto.CloneOf(in.GetReplication()),
			CreateTime:  timestamppb.Now(),
			Labels:      maps.Clone(in.GetLabels()),
			Annotations: maps.Clone(in.GetAnnotations()),
			Etag:        s.nextEtag(),
		},
	}
	s.secrets[name] = sec
	return proto.CloneOf(sec.meta), nil
}

// GetSecret returns a secret's metadata.
func (s *Server) GetSecret(_ context.Context, req *secretmanagerpb.GetSecretRequest) (*secretmanagerpb.Secret, error) {
	name, err := parseSecretName(req.GetName())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookupSecret(name)
	if err != nil {
		return nil, err
	}
	return proto.CloneOf(sec.meta), nil
}

// ListSecrets lists a project's secrets, newest first.
func (s *Server) ListSecrets(_ context.Context, req *secretmanagerpb.ListSecretsRequest) (*secretmanagerpb.ListSecretsResponse, error) {
	project, err := parseProject(req.GetParent())
	if err != nil {
		return nil, err
	}
	if req.GetFilter() != "" {
		return nil, errNotEmulated("filter")
	}
	p, err := parsePage(req.GetParent(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*secret
	for name, sec := range s.secrets {
		if name.project == project {
			all = append(all, sec)
		}
	}
	slices.SortFunc(all, func(a, b *secret) int { return cmp.Compare(b.seq, a.seq) })
	items, next := cut(p, all, func(sec *secret) uint64 { return sec.seq })
	resp := &secretmanagerpb.ListSecretsResponse{NextPageToken: next, TotalSize: int32(len(all))}
	for _, sec := range items {
		resp.Secrets = append(resp.Secrets, proto.CloneOf(sec.meta))
	}
	return resp, nil
}

// UpdateSecret updates the labels and annotations named by the update mask.
func (s *Server) UpdateSecret(_ context.Context, req *secretmanagerpb.UpdateSecretRequest) (*secretmanagerpb.Secret, error) {
	in := req.GetSecret()
	name, err := parseSecretName(in.GetName())
	if err != nil {
		return nil, err
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, status.Error(codes.InvalidArgument, "update_mask is required")
	}
	for _, path := range paths {
		if err := checkUpdatePath(path); err != nil {
			return nil, err
		}
	}
	if slices.Contains(paths, "labels") {
		if err := validateLabels(in.GetLabels()); err != nil {
			return nil, err
		}
	}
	if slices.Contains(paths, "annotations") {
		if err := validateAnnotations(in.GetAnnotations()); err != nil {
			return nil, err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookupSecret(name)
	if err != nil {
		return nil, err
	}
	if err := checkEtag(in.GetEtag(), sec.meta.GetEtag()); err != nil {
		return nil, err
	}
	for _, path := range paths {
		switch path {
		case "labels":
			sec.meta.Labels = maps.Clone(in.GetLabels())
		case "annotations":
			sec.meta.Annotations = maps.Clone(in.GetAnnotations())
		}
	}
	sec.meta.Etag = s.nextEtag()
	return proto.CloneOf(sec.meta), nil
}

// checkUpdatePath accepts the mask paths the emulator can update and tells
// the others apart: immutable or unknown fields are the caller's mistake,
// mutable ones the emulator lacks are its own.
func checkUpdatePath(path string) error {
	switch path {
	case "labels", "annotations":
		return nil
	case "topics", "expire_time", "ttl", "rotation", "version_aliases", "version_destroy_ttl", "customer_managed_encryption":
		return errNotEmulated("updating " + path)
	default:
		return status.Errorf(codes.InvalidArgument, "update_mask path %q is not a mutable Secret field", path)
	}
}

// DeleteSecret deletes a secret and all its versions.
func (s *Server) DeleteSecret(_ context.Context, req *secretmanagerpb.DeleteSecretRequest) (*emptypb.Empty, error) {
	name, err := parseSecretName(req.GetName())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookupSecret(name)
	if err != nil {
		return nil, err
	}
	if err := checkEtag(req.GetEtag(), sec.meta.GetEtag()); err != nil {
		return nil, err
	}
	delete(s.secrets, name)
	return &emptypb.Empty{}, nil
}
