package cloudtasks

import (
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Defaults the real service picks for fields left unset, and its limits.
const (
	defaultMaxAttempts      = 100
	defaultMinBackoff       = 100 * time.Millisecond
	defaultMaxBackoff       = time.Hour
	defaultMaxDoublings     = 16
	defaultDispatchesPerSec = 500
	defaultConcurrent       = 1000
	maxDispatchesPerSec     = 500
	maxConcurrent           = 5000
	// burstSize is what the emulator reports as the output-only
	// max_burst_size, and the burst of its rate limiter.
	burstSize = 100
)

// withRetryDefaults returns a copy of c, which may be nil, with unset fields
// (zero values: proto3 cannot tell them apart) set to the service defaults.
// max_retry_duration defaults to 0, unlimited, so it stays as given.
func withRetryDefaults(c *cloudtaskspb.RetryConfig) *cloudtaskspb.RetryConfig {
	out := proto.CloneOf(c)
	if out == nil {
		out = &cloudtaskspb.RetryConfig{}
	}
	if out.MaxAttempts == 0 {
		out.MaxAttempts = defaultMaxAttempts
	}
	if out.GetMinBackoff().AsDuration() == 0 {
		out.MinBackoff = durationpb.New(defaultMinBackoff)
	}
	if out.GetMaxBackoff().AsDuration() == 0 {
		out.MaxBackoff = durationpb.New(defaultMaxBackoff)
	}
	if out.MaxDoublings == 0 {
		out.MaxDoublings = defaultMaxDoublings
	}
	if out.MaxRetryDuration == nil {
		out.MaxRetryDuration = durationpb.New(0)
	}
	return out
}

// withRateDefaults returns a copy of r, which may be nil, with unset fields
// set to the service defaults and the output-only burst size filled in.
func withRateDefaults(r *cloudtaskspb.RateLimits) *cloudtaskspb.RateLimits {
	out := proto.CloneOf(r)
	if out == nil {
		out = &cloudtaskspb.RateLimits{}
	}
	if out.MaxDispatchesPerSecond == 0 {
		out.MaxDispatchesPerSecond = defaultDispatchesPerSec
	}
	if out.MaxConcurrentDispatches == 0 {
		out.MaxConcurrentDispatches = defaultConcurrent
	}
	out.MaxBurstSize = burstSize
	return out
}

// validateRetry checks a retry config the way the real service does, before
// defaults are applied (a negative value is an error, not "unset").
func validateRetry(field string, c *cloudtaskspb.RetryConfig) error {
	if c == nil {
		return nil
	}
	for _, d := range []struct {
		name string
		v    *durationpb.Duration
	}{
		{"max_retry_duration", c.GetMaxRetryDuration()},
		{"min_backoff", c.GetMinBackoff()},
		{"max_backoff", c.GetMaxBackoff()},
	} {
		if d.v == nil {
			continue
		}
		if err := d.v.CheckValid(); err != nil || d.v.AsDuration() < 0 {
			return status.Errorf(codes.InvalidArgument, "%s.%s must be a non-negative duration", field, d.name)
		}
	}
	switch {
	case c.GetMaxAttempts() < -1:
		return status.Errorf(codes.InvalidArgument, "%s.max_attempts must be -1 (unlimited) or more, got %d", field, c.GetMaxAttempts())
	case c.GetMaxDoublings() < 0:
		return status.Errorf(codes.InvalidArgument, "%s.max_doublings must not be negative, got %d", field, c.GetMaxDoublings())
	}
	return nil
}

// checkBackoffOrder refuses a min_backoff above max_backoff, once both have
// their defaults.
func checkBackoffOrder(field string, c *cloudtaskspb.RetryConfig) error {
	if c.GetMinBackoff().AsDuration() > c.GetMaxBackoff().AsDuration() {
		return status.Errorf(codes.InvalidArgument, "%s.min_backoff (%v) must not exceed max_backoff (%v)",
			field, c.GetMinBackoff().AsDuration(), c.GetMaxBackoff().AsDuration())
	}
	return nil
}

func validateRate(r *cloudtaskspb.RateLimits) error {
	switch {
	case r == nil:
		return nil
	case r.GetMaxDispatchesPerSecond() < 0 || r.GetMaxDispatchesPerSecond() > maxDispatchesPerSec:
		return status.Errorf(codes.InvalidArgument, "rate_limits.max_dispatches_per_second must be between 0 (the default) and %d, got %v",
			maxDispatchesPerSec, r.GetMaxDispatchesPerSecond())
	case r.GetMaxConcurrentDispatches() < 0 || r.GetMaxConcurrentDispatches() > maxConcurrent:
		return status.Errorf(codes.InvalidArgument, "rate_limits.max_concurrent_dispatches must be between 0 (the default) and %d, got %d",
			maxConcurrent, r.GetMaxConcurrentDispatches())
	}
	return nil
}

// unemulatedQueueField names the first field of q that asks for a feature
// the emulator does not have, or returns "".
func unemulatedQueueField(q *cloudtaskspb.Queue) string {
	switch {
	case q.GetHttpTarget() != nil:
		return "http_target"
	case q.GetAppEngineRoutingOverride() != nil:
		return "app_engine_routing_override"
	}
	return ""
}

// queueConfig is the caller-settable part of a queue.
type queueConfig struct {
	retry   *cloudtaskspb.RetryConfig
	rate    *cloudtaskspb.RateLimits
	logging *cloudtaskspb.StackdriverLoggingConfig
}

// normalize validates c and fills in the service defaults.
func (c queueConfig) normalize() (queueConfig, error) {
	if err := validateRetry("retry_config", c.retry); err != nil {
		return queueConfig{}, err
	}
	if err := validateRate(c.rate); err != nil {
		return queueConfig{}, err
	}
	if r := c.logging.GetSamplingRatio(); r < 0 || r > 1 {
		return queueConfig{}, status.Errorf(codes.InvalidArgument, "stackdriver_logging_config.sampling_ratio must be in [0, 1], got %v", r)
	}
	out := queueConfig{
		retry:   withRetryDefaults(c.retry),
		rate:    withRateDefaults(c.rate),
		logging: proto.CloneOf(c.logging),
	}
	if err := checkBackoffOrder("retry_config", out.retry); err != nil {
		return queueConfig{}, err
	}
	return out, nil
}

// applyMask copies the fields named by paths from in to a copy of c. Empty
// paths mean every field, as in the real UpdateQueue. Output-only fields
// are ignored, as the real service ignores them.
func (c queueConfig) applyMask(in *cloudtaskspb.Queue, paths []string) (queueConfig, error) {
	if len(paths) == 0 {
		if f := unemulatedQueueField(in); f != "" {
			return queueConfig{}, errNotEmulated(f)
		}
		return queueConfig{retry: in.GetRetryConfig(), rate: in.GetRateLimits(), logging: in.GetStackdriverLoggingConfig()}, nil
	}
	out := queueConfig{
		retry:   orEmpty(proto.CloneOf(c.retry)),
		rate:    orEmpty(proto.CloneOf(c.rate)),
		logging: proto.CloneOf(c.logging),
	}
	retry, rate := in.GetRetryConfig(), in.GetRateLimits()
	for _, path := range paths {
		switch path {
		case "retry_config":
			out.retry = orEmpty(proto.CloneOf(retry))
		case "retry_config.max_attempts":
			out.retry.MaxAttempts = retry.GetMaxAttempts()
		case "retry_config.max_retry_duration":
			out.retry.MaxRetryDuration = proto.CloneOf(retry.GetMaxRetryDuration())
		case "retry_config.min_backoff":
			out.retry.MinBackoff = proto.CloneOf(retry.GetMinBackoff())
		case "retry_config.max_backoff":
			out.retry.MaxBackoff = proto.CloneOf(retry.GetMaxBackoff())
		case "retry_config.max_doublings":
			out.retry.MaxDoublings = retry.GetMaxDoublings()
		case "rate_limits":
			out.rate = orEmpty(proto.CloneOf(rate))
		case "rate_limits.max_dispatches_per_second":
			out.rate.MaxDispatchesPerSecond = rate.GetMaxDispatchesPerSecond()
		case "rate_limits.max_concurrent_dispatches":
			out.rate.MaxConcurrentDispatches = rate.GetMaxConcurrentDispatches()
		case "stackdriver_logging_config", "stackdriver_logging_config.sampling_ratio":
			out.logging = proto.CloneOf(in.GetStackdriverLoggingConfig())
		case "name", "state", "purge_time", "rate_limits.max_burst_size":
			// Output only, or the key itself.
		case "http_target", "app_engine_routing_override":
			if f := unemulatedQueueField(in); f != "" {
				return queueConfig{}, errNotEmulated(f)
			}
		default:
			return queueConfig{}, status.Errorf(codes.InvalidArgument, "update_mask path %q is not a mutable Queue field", path)
		}
	}
	return out, nil
}

// orEmpty returns m, or a new empty message when m is nil, so that sub-field
// paths can be set on it.
func orEmpty[M any, P interface {
	*M
	proto.Message
}](m P) P {
	if m == nil {
		return new(M)
	}
	return m
}

func errNotEmulated(what string) error {
	return status.Errorf(codes.Unimplemented, "%s is not emulated", what)
}
