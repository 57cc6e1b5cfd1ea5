// Package secretmanager is an in-memory emulator of Google Cloud Secret
// Manager for local stacks and tests. Google ships none, and hookrun wants its
// production adapter to run unchanged against something local, so this
// package serves the real gRPC API (secretmanagerpb.SecretManagerServiceServer)
// rather than a look-alike interface: the official Go client connects to it
// with option.WithEndpoint, option.WithoutAuthentication and insecure gRPC
// transport credentials.
//
// # What it emulates
//
// Secrets and their versions, with the real resource names
// (projects/{project}/secrets/{secret}/versions/{n}, versions numbered 1, 2,
// 3… per secret) and the real error codes: INVALID_ARGUMENT for a bad secret
// ID, label, page token or payload (over 64 KiB, or a data_crc32c that does
// not match), ALREADY_EXISTS, NOT_FOUND, and FAILED_PRECONDITION for an etag
// mismatch or for reaching the data of a DISABLED or DESTROYED version.
// Implemented methods: CreateSecret, GetSecret, ListSecrets, UpdateSecret
// (labels and annotations), DeleteSecret, AddSecretVersion, GetSecretVersion,
// AccessSecretVersion, ListSecretVersions, EnableSecretVersion,
// DisableSecretVersion and DestroySecretVersion. Lists are newest first and
// paged with page_size and page_token; a page size of 0 means 100.
//
// The "latest" version alias resolves, as in the real service, to the most
// recently created version whatever its state: when that version is disabled
// or destroyed, accessing "latest" fails with FAILED_PRECONDITION rather than
// falling back to an older enabled version.
//
// Any project ID is accepted and projects are independent, so tests isolate
// themselves with a fresh project ID instead of restarting the emulator. A
// project ID is kept as given: the real service answers with the project
// number in resource names, the emulator with whatever the caller sent.
//
// # What it does not emulate
//
// IAM (SetIamPolicy, GetIamPolicy, TestIamPermissions: UNIMPLEMENTED, and no
// permission is ever checked), the locations API and regional secrets
// (projects/*/locations/*), replication semantics beyond storing the policy,
// customer-managed encryption keys, Pub/Sub topics, rotation schedules and
// managed rotation, expire_time and ttl, delayed destruction
// (version_destroy_ttl), version aliases, tags, typed secrets, list filters,
// quotas and persistence: state lives in memory and is gone when the process
// stops. A request that sets one of these features fails with UNIMPLEMENTED
// instead of being silently ignored, so a caller learns at once that the
// emulator cannot stand in for it.
package secretmanager
