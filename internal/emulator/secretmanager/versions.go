package secretmanager

import (
	"bytes"
	"context"
	"hash/crc32"
	"slices"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// maxPayloadBytes is the real service's limit on secret data.
const maxPayloadBytes = 64 * 1024

// castagnoli is the CRC32C table the API's data_crc32c field uses.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// AddSecretVersion stores a payload as the secret's next version.
func (s *Server) AddSecretVersion(_ context.Context, req *secretmanagerpb.AddSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	name, err := parseSecretName(req.GetParent())
	if err != nil {
		return nil, err
	}
	payload := req.GetPayload()
	if payload == nil {
		return nil, status.Error(codes.InvalidArgument, "payload is required")
	}
	data := payload.GetData()
	if len(data) > maxPayloadBytes {
		return nil, status.Errorf(codes.InvalidArgument, "payload is %d bytes, the limit is %d", len(data), maxPayloadBytes)
	}
	sum := int64(crc32.Checksum(data, castagnoli))
	if payload.DataCrc32C != nil && payload.GetDataCrc32C() != sum {
		return nil, status.Error(codes.InvalidArgument, "payload data_crc32c does not match the data: the payload was corrupted in transit")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookupSecret(name)
	if err != nil {
		return nil, err
	}
	num := uint64(len(sec.versions)) + 1
	v := &version{
		num: num,
		meta: &secretmanagerpb.SecretVersion{
			Name:                           name.versionName(num),
			CreateTime:                     timestamppb.Now(),
			State:                          secretmanagerpb.SecretVersion_ENABLED,
			ReplicationStatus:              replicationStatus(sec.meta.GetReplication()),
			Etag:                           s.nextEtag(),
			ClientSpecifiedPayloadChecksum: payload.DataCrc32C != nil,
		},
		data:   bytes.Clone(data),
		crc32c: sum,
	}
	sec.versions = append(sec.versions, v)
	return proto.CloneOf(v.meta), nil
}

// GetSecretVersion returns a version's metadata, whatever its state.
func (s *Server) GetSecretVersion(_ context.Context, req *secretmanagerpb.GetSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.lookupVersion(req.GetName())
	if err != nil {
		return nil, err
	}
	return proto.CloneOf(v.meta), nil
}

// AccessSecretVersion returns an enabled version's payload and its CRC32C.
func (s *Server) AccessSecretVersion(_ context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.lookupVersion(req.GetName())
	if err != nil {
		return nil, err
	}
	if state := v.meta.GetState(); state != secretmanagerpb.SecretVersion_ENABLED {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s] is in %s state.", v.meta.GetName(), state)
	}
	return &secretmanagerpb.AccessSecretVersionResponse{
		Name: v.meta.GetName(),
		Payload: &secretmanagerpb.SecretPayload{
			Data:       bytes.Clone(v.data),
			DataCrc32C: proto.Int64(v.crc32c),
		},
	}, nil
}

// ListSecretVersions lists a secret's versions, newest first, without data.
func (s *Server) ListSecretVersions(_ context.Context, req *secretmanagerpb.ListSecretVersionsRequest) (*secretmanagerpb.ListSecretVersionsResponse, error) {
	name, err := parseSecretName(req.GetParent())
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
	sec, err := s.lookupSecret(name)
	if err != nil {
		return nil, err
	}
	all := slices.Clone(sec.versions)
	slices.Reverse(all)
	items, next := cut(p, all, func(v *version) uint64 { return v.num })
	resp := &secretmanagerpb.ListSecretVersionsResponse{NextPageToken: next, TotalSize: int32(len(all))}
	for _, v := range items {
		resp.Versions = append(resp.Versions, proto.CloneOf(v.meta))
	}
	return resp, nil
}

// EnableSecretVersion makes a disabled version accessible again.
func (s *Server) EnableSecretVersion(_ context.Context, req *secretmanagerpb.EnableSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	return s.transition(req.GetName(), req.GetEtag(), secretmanagerpb.SecretVersion_ENABLED)
}

// DisableSecretVersion makes a version inaccessible until enabled again.
func (s *Server) DisableSecretVersion(_ context.Context, req *secretmanagerpb.DisableSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	return s.transition(req.GetName(), req.GetEtag(), secretmanagerpb.SecretVersion_DISABLED)
}

// DestroySecretVersion irrevocably erases a version's data.
func (s *Server) DestroySecretVersion(_ context.Context, req *secretmanagerpb.DestroySecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	return s.transition(req.GetName(), req.GetEtag(), secretmanagerpb.SecretVersion_DESTROYED)
}

// transition moves the named version to state to. ENABLED and DISABLED go both ways and
// repeating one is a no-op that still renews the etag, as in the real
// service; DESTROYED is final.
func (s *Server) transition(name, etag string, to secretmanagerpb.SecretVersion_State) (*secretmanagerpb.SecretVersion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.lookupVersion(name)
	if err != nil {
		return nil, err
	}
	if err := checkEtag(etag, v.meta.GetEtag()); err != nil {
		return nil, err
	}
	if v.meta.GetState() == secretmanagerpb.SecretVersion_DESTROYED {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s] is in DESTROYED state.", v.meta.GetName())
	}
	v.meta.State = to
	if to == secretmanagerpb.SecretVersion_DESTROYED {
		v.data = nil
		v.meta.DestroyTime = timestamppb.Now()
	}
	v.meta.Etag = s.nextEtag()
	return proto.CloneOf(v.meta), nil
}
