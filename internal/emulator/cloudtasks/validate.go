package cloudtasks

import (
	"net/url"
	"time"

	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Task limits the real service documents.
const (
	maxTaskBytes        = 100 * 1024 // "The maximum task size is 100KB."
	maxURLLength        = 2083
	maxHeaderBytes      = 80 * 1024
	minDispatchDeadline = 15 * time.Second // dispatch_deadline bounds for HTTP tasks
	maxDispatchDeadline = 30 * time.Minute
	defaultDeadline     = 10 * time.Minute
	maxScheduleHorizon  = 30 * 24 * time.Hour // schedule_time at most 30 days ahead
)

// validateTask checks the caller-settable fields of a new HTTP task as the
// real service does. Its errors never quote the body or header values.
func validateTask(t *cloudtaskspb.Task, now time.Time) error {
	if t.GetAppEngineHttpRequest() != nil {
		return errNotEmulated("App Engine tasks (app_engine_http_request)")
	}
	r := t.GetHttpRequest()
	if r == nil {
		return status.Error(codes.InvalidArgument, "task.http_request is required")
	}
	if err := validateURL(r.GetUrl()); err != nil {
		return err
	}
	switch r.GetHttpMethod() {
	case cloudtaskspb.HttpMethod_HTTP_METHOD_UNSPECIFIED, cloudtaskspb.HttpMethod_POST,
		cloudtaskspb.HttpMethod_PUT, cloudtaskspb.HttpMethod_PATCH:
	case cloudtaskspb.HttpMethod_GET, cloudtaskspb.HttpMethod_HEAD,
		cloudtaskspb.HttpMethod_DELETE, cloudtaskspb.HttpMethod_OPTIONS:
		if len(r.GetBody()) > 0 {
			return status.Errorf(codes.InvalidArgument, "a body is allowed only with POST, PUT or PATCH, not %v", r.GetHttpMethod())
		}
	default:
		return status.Errorf(codes.InvalidArgument, "unknown http_method %v", r.GetHttpMethod())
	}
	size := 0
	for k, v := range r.GetHeaders() {
		size += len(k) + len(v)
	}
	if size >= maxHeaderBytes {
		return status.Errorf(codes.InvalidArgument, "headers total %d bytes, must be under %d", size, maxHeaderBytes)
	}
	if tok := r.GetOidcToken(); tok != nil && tok.GetServiceAccountEmail() == "" {
		return status.Error(codes.InvalidArgument, "http_request.oidc_token.service_account_email is required")
	}
	if tok := r.GetOauthToken(); tok != nil && tok.GetServiceAccountEmail() == "" {
		return status.Error(codes.InvalidArgument, "http_request.oauth_token.service_account_email is required")
	}
	if d := t.GetDispatchDeadline(); d != nil {
		if err := d.CheckValid(); err != nil || d.AsDuration() < minDispatchDeadline || d.AsDuration() > maxDispatchDeadline {
			return status.Errorf(codes.InvalidArgument, "dispatch_deadline must be between %v and %v", minDispatchDeadline, maxDispatchDeadline)
		}
	}
	if ts := t.GetScheduleTime(); ts != nil {
		if err := ts.CheckValid(); err != nil {
			return status.Errorf(codes.InvalidArgument, "invalid schedule_time: %v", err)
		}
		if ts.AsTime().After(now.Add(maxScheduleHorizon)) {
			return status.Errorf(codes.InvalidArgument, "schedule_time %v is more than 30 days ahead", ts.AsTime())
		}
	}
	if err := validateRetry("task.retry_config", t.GetRetryConfig()); err != nil {
		return err
	}
	if n := proto.Size(t); n > maxTaskBytes {
		return status.Errorf(codes.InvalidArgument, "Task size too large: %d bytes, the maximum is %d", n, maxTaskBytes)
	}
	return nil
}

func validateURL(raw string) error {
	if len(raw) > maxURLLength {
		return status.Errorf(codes.InvalidArgument, "http_request.url is %d characters, at most %d", len(raw), maxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return status.Error(codes.InvalidArgument, `http_request.url must be an absolute URL beginning with "http://" or "https://"`)
	}
	return nil
}
