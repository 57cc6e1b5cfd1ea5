# Inputs of the hookrun deployment. Only project_id has no default; the
# service settings default to the values the code itself defaults to (see the
# Configuration section of the top-level README), so what runs in production
# is written down here and in run.tf, not implied.

# --- Where ---------------------------------------------------------------

variable "project_id" {
  description = "Google Cloud project ID to deploy into. Everything (services, topics, queue, database, secrets) lives in this one project."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Run services, the Cloud Tasks queue and the Artifact Registry repository."
  type        = string
  default     = "europe-west1"
}

variable "firestore_location" {
  description = "Location of the Firestore (default) database: a region (\"europe-west1\") or a multi-region (\"eur3\", \"nam5\"). Null means var.region. Cannot change once the database exists."
  type        = string
  default     = null
}

variable "labels" {
  description = "Extra labels put on every resource that takes labels (app = \"hookrun\" is always set)."
  type        = map(string)
  default     = {}
}

variable "deletion_protection" {
  description = "Protect the Cloud Run services and the Firestore database from `terraform destroy`. Set to false and apply before tearing down."
  type        = bool
  default     = true
}

# --- Images --------------------------------------------------------------

variable "ingest_image" {
  description = "Container image of run/ingest. Null means <region>-docker.pkg.dev/<project>/hookrun/ingest:latest. Pass an immutable reference (tag per commit, or @sha256 digest): an unchanged string deploys no new revision."
  type        = string
  default     = null
}

variable "dispatcher_image" {
  description = "Container image of run/dispatcher. Null means <region>-docker.pkg.dev/<project>/hookrun/dispatcher:latest. Pass an immutable reference, as for ingest_image."
  type        = string
  default     = null
}

variable "receiver_image" {
  description = "Container image of the sample receiver (functions/receiver/Dockerfile). Null means <region>-docker.pkg.dev/<project>/hookrun/receiver:latest. Only used with deploy_receiver."
  type        = string
  default     = null
}

variable "deploy_receiver" {
  description = "Also deploy the sample receiver (functions/receiver) as the public Cloud Run service hookrun-receiver, with its own identity and signing-secret secret. scripts/deploy uses it for the end-to-end smoke test."
  type        = bool
  default     = false
}

# --- Retention, logging --------------------------------------------------

variable "event_retention_days" {
  description = "How long events, deliveries and rejected messages are kept (HOOKRUN_EVENT_RETENTION, written to the expire_time field that the Firestore TTL policies act on). Must cover the retry schedule (about 3 days by default)."
  type        = number
  default     = 30

  validation {
    condition     = var.event_retention_days >= 1 && floor(var.event_retention_days) == var.event_retention_days
    error_message = "event_retention_days must be a whole number of days, at least 1."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of every service: debug, info, warn or error."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], lower(var.log_level))
    error_message = "log_level must be debug, info, warn or error."
  }
}

# --- Deadlines of dependency calls -----------------------------------------

variable "call_timeout" {
  description = "HOOKRUN_CALL_TIMEOUT of ingest and the dispatcher: each call to Firestore, Secret Manager or Cloud Tasks ends after it, so that a hung service is a 503 rather than a hung request."
  type        = string
  default     = "10s"
}

# --- Admin token ---------------------------------------------------------

variable "admin_token" {
  description = "The ingest admin token (at least 16 characters). Null generates one (random_password). Either way it lands in the Secret Manager secret hookrun-admin-token and in the Terraform state, so keep the state bucket private."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.admin_token == null || length(coalesce(var.admin_token, "x")) >= 16
    error_message = "admin_token must be at least 16 characters."
  }
}

# --- Cloud Run sizing ----------------------------------------------------

variable "cpu" {
  description = "CPU limit of each service's container."
  type        = string
  default     = "1"
}

variable "memory" {
  description = "Memory limit of each service's container."
  type        = string
  default     = "512Mi"
}

variable "ingest_max_instances" {
  description = "Most ingest instances. Tenant event-rate limits are per instance, so a tenant may reach this many times its limit."
  type        = number
  default     = 10
}

variable "dispatcher_max_instances" {
  description = "Most dispatcher instances."
  type        = number
  default     = 20
}

variable "receiver_max_instances" {
  description = "Most sample-receiver instances."
  type        = number
  default     = 3
}

variable "request_concurrency" {
  description = "Concurrent requests per instance (Cloud Run's max_instance_request_concurrency) of every service. All three are I/O bound."
  type        = number
  default     = 80
}

variable "ingest_timeout" {
  description = "Request timeout of ingest (covers a 10 s ownership challenge and a 500-record tenant deletion step)."
  type        = string
  default     = "60s"
}

variable "dispatcher_timeout" {
  description = "Request timeout of the dispatcher. Longer than the push ack deadline: a push answered late is redelivered, and the redelivery skips what was done."
  type        = string
  default     = "300s"
}

variable "dispatcher_ingress" {
  description = "Ingress of the dispatcher. INGRESS_TRAFFIC_INTERNAL_ONLY admits Pub/Sub push and Cloud Tasks from this project (Google documents both as internal sources when they use the run.app URL); INGRESS_TRAFFIC_ALL also admits the internet, where IAM still lets only the two invoker identities through. See infra/README.md."
  type        = string
  default     = "INGRESS_TRAFFIC_INTERNAL_ONLY"

  validation {
    condition     = contains(["INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_ALL"], var.dispatcher_ingress)
    error_message = "dispatcher_ingress must be INGRESS_TRAFFIC_INTERNAL_ONLY or INGRESS_TRAFFIC_ALL."
  }
}

# --- Pub/Sub -------------------------------------------------------------

variable "push_ack_deadline_seconds" {
  description = "Ack deadline of the push subscriptions: how long Pub/Sub waits for the dispatcher's answer."
  type        = number
  default     = 60
}

variable "push_min_backoff" {
  description = "Shortest wait before Pub/Sub pushes a message again after a non-2xx answer."
  type        = string
  default     = "10s"
}

variable "push_max_backoff" {
  description = "Longest wait before Pub/Sub pushes a message again."
  type        = string
  default     = "600s"
}

variable "push_max_delivery_attempts" {
  description = "Pushes of one message to the dispatcher before Pub/Sub moves it to events-dead-letter (5 to 100)."
  type        = number
  default     = 10

  validation {
    condition     = var.push_max_delivery_attempts >= 5 && var.push_max_delivery_attempts <= 100
    error_message = "push_max_delivery_attempts must be between 5 and 100 (Pub/Sub's bounds)."
  }
}

variable "subscription_retention" {
  description = "How long the push subscriptions keep a message that was not acknowledged yet (at most 31 days)."
  type        = string
  default     = "604800s"
}

variable "dead_letters_retention" {
  description = "Topic-level retention of the dead-letters topic, so a consumer subscribed later can seek back to dead letters announced before it existed. Null disables it."
  type        = string
  default     = "604800s"
}

variable "extra_event_publishers" {
  description = "Further IAM members allowed to publish to the events topic directly, such as another project's service account (\"serviceAccount:…\"). See the README on messages from other GCP services."
  type        = list(string)
  default     = []
}

# --- Cloud Tasks ---------------------------------------------------------

variable "tasks_max_dispatches_per_second" {
  description = "Rate at which the deliveries queue starts scheduled retries (Cloud Tasks allows up to 500)."
  type        = number
  default     = 100
}

variable "tasks_max_concurrent_dispatches" {
  description = "Retries of the deliveries queue running at once. Keep it below dispatcher_max_instances x request_concurrency."
  type        = number
  default     = 500
}

variable "tasks_max_attempts" {
  description = "Cloud Tasks' own attempts per task, -1 for unlimited. They only cover a dispatcher that crashed or failed to record an attempt: the webhook retry schedule is hookrun's, made of separate tasks."
  type        = number
  default     = -1
}

variable "tasks_min_backoff" {
  description = "Shortest wait before Cloud Tasks retries a task the dispatcher did not answer with 2xx."
  type        = string
  default     = "1s"
}

variable "tasks_max_backoff" {
  description = "Longest wait before Cloud Tasks retries a task."
  type        = string
  default     = "300s"
}

# --- ingest settings (defaults as in run/ingest) --------------------------

variable "max_body_bytes" {
  description = "HOOKRUN_MAX_BODY_BYTES: the largest event body ingest accepts."
  type        = number
  default     = 262144
}

variable "portal_frame_ancestors" {
  description = "HOOKRUN_PORTAL_FRAME_ANCESTORS: space-separated origins allowed to embed the tenant portal in an iframe, such as \"https://app.example.com\"; empty, none may."
  type        = string
  default     = ""
}

variable "rotation_grace" {
  description = "HOOKRUN_ROTATION_GRACE: default grace period of a signing-secret rotation."
  type        = string
  default     = "24h"
}

variable "ingest_request_timeout" {
  description = "HOOKRUN_REQUEST_TIMEOUT of ingest: an API request's budget, after which a dependency that has not answered makes it a 503 with Retry-After. Shorter than ingest_timeout."
  type        = string
  default     = "10s"
}

variable "publish_timeout" {
  description = "HOOKRUN_PUBLISH_TIMEOUT: how long ingest waits for Pub/Sub before answering 503; at most ingest_request_timeout."
  type        = string
  default     = "10s"
}

variable "publish_delay" {
  description = "HOOKRUN_PUBLISH_DELAY: Pub/Sub client batching delay."
  type        = string
  default     = "1ms"
}

variable "key_cache_ttl" {
  description = "HOOKRUN_KEY_CACHE_TTL: how long API key, tenant and catalogue lookups are cached per ingest instance."
  type        = string
  default     = "10s"
}

variable "producer_service_accounts" {
  description = "HOOKRUN_PRODUCER_SERVICE_ACCOUNTS: space-separated service accounts whose Google-signed ID tokens may send events (POST /v1/tenants/{tenant}/events), each of every tenant (\"sender@proj.iam.gserviceaccount.com\") or of some (\"sender@proj.iam.gserviceaccount.com=acme,globex\"); empty, none."
  type        = string
  default     = ""
}

variable "producer_audience" {
  description = "HOOKRUN_PRODUCER_AUDIENCE: the audience producers' ID tokens are issued for; empty means ingest's URL (https://hookrun-ingest-<project number>.<region>.run.app). Set it when producers call ingest through a custom domain."
  type        = string
  default     = ""
}

# --- dispatcher settings (defaults as in run/dispatcher) -------------------

variable "dispatcher_request_timeout" {
  description = "HOOKRUN_REQUEST_TIMEOUT of the dispatcher: how long a push or task request may run (a fan-out's attempts take up to 60 s each). Shorter than dispatcher_timeout, by more than the 30 s a cut-short attempt takes to be recorded."
  type        = string
  default     = "4m"
}

variable "dispatcher_pull" {
  description = "Streaming pull (README: Streaming pull): the events-dispatcher subscription becomes a pull subscription (same retry and dead-letter policy) that the dispatcher reads as HOOKRUN_PULL_SUBSCRIPTION, with at least one instance always running with CPU. false, the default, has Pub/Sub push every event."
  type        = bool
  default     = false
}

variable "dispatcher_pull_max_outstanding" {
  description = "HOOKRUN_PULL_MAX_OUTSTANDING: pulled messages a dispatcher instance handles at once, with HOOKRUN_PULL_SUBSCRIPTION: 1 to 1000, or the dispatcher refuses to start."
  type        = number
  default     = 64
}

variable "endpoint_cache_ttl" {
  description = "HOOKRUN_ENDPOINT_CACHE_TTL: tenant cache of the dispatcher."
  type        = string
  default     = "10s"
}

variable "max_fan_out" {
  description = "HOOKRUN_MAX_FAN_OUT: concurrent delivery attempts per message."
  type        = number
  default     = 32
}

variable "disable_after_dead_letters" {
  description = "HOOKRUN_DISABLE_AFTER_DEAD_LETTERS: disable an endpoint after this many dead letters in a row; 0 never does."
  type        = number
  default     = 50
}

variable "event_flush_interval" {
  description = "HOOKRUN_EVENT_FLUSH_INTERVAL: how long the record of an accepted event may wait, after its 202, to be written in a batch; 0s records every event before answering."
  type        = string
  default     = "100ms"
}

variable "attempt_flush_interval" {
  description = "HOOKRUN_ATTEMPT_FLUSH_INTERVAL: how long the record of a successful first attempt may wait, after its push is acknowledged, to be written in a batch; 0s records every attempt before acknowledging."
  type        = string
  default     = "100ms"
}

variable "endpoint_change_delay" {
  description = "HOOKRUN_ENDPOINT_CHANGE_DELAY: an endpoint change reaches every event accepted at least this long after it (exact for test events, redeliveries and events accepted by the ingest instance that made the change); at most 10s; 0s checks the endpoint list before every event newer than it."
  type        = string
  default     = "1s"
}

# --- sample receiver settings (defaults as in functions/receiver) -----------

variable "receiver_secret_version" {
  description = "Version of the receiver-webhook-secret secret the receiver reads at start (\"latest\" or a number). Setting the number of a newly added version rolls out a new revision that uses it."
  type        = string
  default     = "latest"
}

variable "receiver_tolerance" {
  description = "WEBHOOK_TOLERANCE of the receiver: how far webhook-timestamp may be from now."
  type        = string
  default     = "5m"
}

variable "receiver_handoff_timeout" {
  description = "HANDOFF_TIMEOUT of the receiver."
  type        = string
  default     = "10s"
}

variable "receiver_dedupe_window" {
  description = "DEDUPE_WINDOW of the receiver: how long a webhook-id is remembered, per instance."
  type        = string
  default     = "10m"
}

variable "receiver_dedupe_max_ids" {
  description = "DEDUPE_MAX_IDS of the receiver."
  type        = number
  default     = 100000
}

variable "receiver_max_body_bytes" {
  description = "MAX_BODY_BYTES of the receiver."
  type        = number
  default     = 1048576
}

# --- Alerts (alerts.tf; what each means: the README's Operate section) -----
# Each alert has a threshold and how long it must be crossed before it fires
# (_for_minutes, whole minutes). Rates are averaged over a 5-minute window
# (local.alert_window in metrics.tf).

variable "alert_notification_channels" {
  description = "Existing Cloud Monitoring notification channels every alert notifies, by resource name (projects/<project>/notificationChannels/<id>: Slack, PagerDuty, SMS… made in the console). Empty and no alert_emails: alerts open incidents in the console only."
  type        = list(string)
  default     = []
}

variable "alert_emails" {
  description = "Email addresses every alert notifies; each becomes an email notification channel."
  type        = list(string)
  default     = []
}

variable "alert_dead_letters_per_minute" {
  description = "Dead letters rising: fires when deliveries become dead letters (hookrun.deliveries, outcome dead) faster than this many per minute."
  type        = number
  default     = 1
}

variable "alert_dead_letters_for_minutes" {
  description = "How long the dead-letter rate must stay above alert_dead_letters_per_minute."
  type        = number
  default     = 5
}

variable "alert_dead_letter_topic_messages" {
  description = "Dead-letter topic receiving messages: fires when the dead-letters topic receives more than this many messages in 5 minutes (0: any)."
  type        = number
  default     = 0
}

variable "alert_dead_letter_topic_for_minutes" {
  description = "How long the dead-letters topic must keep receiving more than alert_dead_letter_topic_messages (0: at once)."
  type        = number
  default     = 0
}

variable "alert_undeliverable_messages" {
  description = "Messages Pub/Sub gave up pushing: fires when the events-dead-letter topic receives more than this many messages in 5 minutes (0: any)."
  type        = number
  default     = 0
}

variable "alert_undeliverable_messages_for_minutes" {
  description = "How long events-dead-letter must keep receiving more than alert_undeliverable_messages (0: at once)."
  type        = number
  default     = 0
}

variable "alert_success_rate_min" {
  description = "Success rate under a threshold: fires when fewer than this fraction of delivery outcomes (hookrun.deliveries) are succeeded (the others are retrying or dead)."
  type        = number
  default     = 0.95

  validation {
    condition     = var.alert_success_rate_min > 0 && var.alert_success_rate_min <= 1
    error_message = "alert_success_rate_min is a fraction: more than 0, at most 1."
  }
}

variable "alert_success_rate_for_minutes" {
  description = "How long the success rate must stay under alert_success_rate_min."
  type        = number
  default     = 15
}

variable "alert_delivery_latency_p95_seconds" {
  description = "Accept-to-delivered latency: fires when the 95th percentile of the time from an event's acceptance to its successful delivery (hookrun.delivery.latency) exceeds this many seconds. A first retry comes 5 s after a failure, the next about 20 s later."
  type        = number
  default     = 60
}

variable "alert_delivery_latency_for_minutes" {
  description = "How long the p95 accept-to-delivered latency must stay above alert_delivery_latency_p95_seconds."
  type        = number
  default     = 15
}

variable "alert_backlog_age_seconds" {
  description = "Events backlog: fires when the oldest message of the events-dispatcher subscription not yet acknowledged is older than this many seconds. With the default push backoff, a message the dispatcher keeps failing reaches events-dead-letter after about 40 minutes."
  type        = number
  default     = 900
}

variable "alert_backlog_for_minutes" {
  description = "How long the oldest unacknowledged message must stay older than alert_backlog_age_seconds."
  type        = number
  default     = 5
}

variable "alert_ingest_5xx_per_minute" {
  description = "5xx on ingest: fires when hookrun-ingest answers 5xx (Cloud Run's request count, 5xx class) more often than this many times per minute."
  type        = number
  default     = 1
}

variable "alert_ingest_5xx_for_minutes" {
  description = "How long ingest's 5xx rate must stay above alert_ingest_5xx_per_minute."
  type        = number
  default     = 5
}
