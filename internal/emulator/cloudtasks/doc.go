// Package cloudtasks is an in-memory emulator of Google Cloud Tasks for
// local stacks and tests. Google ships none, and hookrun wants its
// production adapter to run unchanged against something local, so this
// package serves the real gRPC API (cloudtaskspb.CloudTasksServer) rather
// than a look-alike interface: the official Go client connects to it with
// option.WithEndpoint, option.WithoutAuthentication and insecure gRPC
// transport credentials. Unlike a fake, it really dispatches: each HTTP
// task is sent to its URL at its schedule time and retried per its queue's
// retry config.
//
// # What it emulates
//
// Queues: CreateQueue, GetQueue, ListQueues (lexicographical, paged),
// UpdateQueue (retry_config, rate_limits and stackdriver_logging_config,
// whole or by sub-field mask paths; it creates a missing queue, as the real
// method does), DeleteQueue, PurgeQueue, PauseQueue and ResumeQueue. Unset
// settings take the real defaults: 100 attempts, backoff from 0.1 s to
// 1 h with 16 doublings, no retry time limit, 500 dispatches per second,
// 1000 concurrent dispatches.
//
// Tasks: CreateTask, GetTask, ListTasks (ordered by task ID, paged),
// DeleteTask and RunTask, with the real resource names
// (projects/{project}/locations/{location}/queues/{queue}/tasks/{task}) and
// error codes: INVALID_ARGUMENT for a malformed name or task ID (letters,
// digits, hyphens and underscores, 1 to 500 of them), a task over 100 KiB,
// a body with GET, HEAD, DELETE or OPTIONS, a dispatch_deadline outside
// [15 s, 30 min] or a schedule_time more than 30 days ahead; NOT_FOUND for
// a missing queue or task (a task that succeeded or ran out of attempts is
// gone); ALREADY_EXISTS for a task name in use or used within the last 24
// hours (the window the real service documents), deleted, purged or
// finished tasks included, which is what makes named tasks idempotent. An
// unnamed task gets a random numeric ID. The BASIC view (the default)
// leaves out the body, FULL includes it.
//
// Dispatch: at its schedule_time a task is sent to its URL with its method,
// headers and body, plus the headers the real service adds: User-Agent
// Google-Cloud-Tasks, X-CloudTasks-QueueName, X-CloudTasks-TaskName,
// X-CloudTasks-TaskRetryCount, X-CloudTasks-TaskExecutionCount,
// X-CloudTasks-TaskETA and, after an attempt that got a response,
// X-CloudTasks-TaskPreviousResponse. Host, Content-Length, User-Agent,
// X-Google-*, X-AppEngine-* and X-CloudTasks-* headers of the task are
// replaced or dropped, as there. A task with an oidc_token or oauth_token
// carries "Authorization: Bearer " followed by FakeOIDCToken or
// FakeOAuthToken: no Google signer exists locally, so the target must run
// with token verification off. A 2xx answer deletes the task. Anything
// else (another status, a connection error, no answer within
// dispatch_deadline, 10 minutes by default) fails the attempt, and the task
// is retried after min_backoff, doubling max_doublings times, then growing
// linearly, capped at max_backoff, until max_attempts (-1: unlimited) and
// max_retry_duration (0: unlimited) are both used up, when it is deleted.
// A task-level retry_config overrides the fields it sets. dispatch_count,
// response_count, first_attempt and last_attempt (with the response status
// mapped to a gRPC code) are kept up to date. Redirects are followed.
//
// Scheduling uses one timer per waiting task; nothing polls. A paused queue
// dispatches nothing until resumed, when overdue tasks go out at once.
// max_concurrent_dispatches bounds the attempts in flight per queue and
// max_dispatches_per_second is enforced by a token bucket of 100 (the
// max_burst_size reported). RunTask dispatches at once, even from a paused
// queue or a running task, as the real method does.
//
// Any project and location ID is accepted and projects are independent, so
// tests isolate themselves with a fresh project ID instead of restarting
// the emulator.
//
// # What it does not emulate
//
// App Engine tasks (app_engine_http_request) and queue-level overrides
// (http_target, app_engine_routing_override): UNIMPLEMENTED. IAM
// (GetIamPolicy, SetIamPolicy, TestIamPermissions), BatchCreateTasks,
// BatchDeleteTasks, CMEK config, the locations API and ListQueues filters:
// UNIMPLEMENTED, and no permission is ever checked. Real OIDC and OAuth
// tokens (see above). The real service's congestion control (slowing down
// on 429 and 503, ramping up slowly, honouring Retry-After),
// X-CloudTasks-TaskRetryReason, the DISABLED queue state, the 31-day task
// retention, the tombstone that keeps a deleted queue's name taken (the
// emulator lets it be reused at once), truncation of backoffs to whole
// seconds, Cloud Logging and quotas. Purges take effect at once rather than
// within a minute. State lives in memory and is gone when the process
// stops.
package cloudtasks
