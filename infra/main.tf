# Names, URLs and the environment the services share. Split by concern:
#   apis.tf       APIs
#   artifact.tf   the Artifact Registry repository
#   iam.tf        service accounts (the build identity too), custom roles, every grant
#   pubsub.tf     topics and push subscriptions
#   tasks.tf      the Cloud Tasks queue
#   firestore.tf  database, composite indexes, TTL policies
#   secrets.tf    admin token, the sample receiver's signing secret
#   run.tf        the Cloud Run services and their complete environment
#   metrics.tf    hookrun's metrics declared to Cloud Monitoring, their filters
#   alerts.tf     alert policies, notification channels
#   dashboard.tf  the Cloud Monitoring dashboard

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  project_number     = data.google_project.this.number
  firestore_location = coalesce(var.firestore_location, var.region)

  service_names = {
    ingest     = "hookrun-ingest"
    dispatcher = "hookrun-dispatcher"
    receiver   = "hookrun-receiver"
  }

  # Cloud Run's deterministic URLs, https://<service>-<project number>.<region>.run.app,
  # are known before the services exist. The dispatcher needs its own URL in
  # its environment (push audience, task target), and ingest needs it too:
  # using the service's `uri` attribute would be a cycle. outputs.tf also
  # gives the `uri` Cloud Run reports.
  service_urls = {
    for k, name in local.service_names : k => "https://${name}-${local.project_number}.${var.region}.run.app"
  }
  dispatcher_url = local.service_urls.dispatcher

  # The events subscription's name, which the dispatcher reads when it
  # pulls (var.dispatcher_pull): a literal here, as the subscription
  # depends on the dispatcher (its push invoker's grant).
  events_subscription = "events-dispatcher"

  push_endpoint        = "${local.dispatcher_url}/pubsub/push"
  dead_letter_endpoint = "${local.dispatcher_url}/pubsub/dead-letter"
  tasks_target_url     = "${local.dispatcher_url}/tasks/deliver"
  retire_target_url    = "${local.dispatcher_url}/tasks/retire-secret"

  # Audience of the ID tokens producers' GCP workloads send ingest: its
  # URL, unless var.producer_audience says otherwise (a custom domain).
  producer_audience = var.producer_audience != "" ? var.producer_audience : local.service_urls.ingest

  # OIDC audience of Pub/Sub's pushes (both subscriptions): the service URL.
  push_audience = local.dispatcher_url

  # OIDC audience of Cloud Tasks' requests. The dispatcher checks ONE task
  # audience (HOOKRUN_TASKS_AUDIENCE) on both task routes, /tasks/deliver and
  # /tasks/retire-secret, so ingest's retire-secret tasks and the
  # dispatcher's retry tasks are both given the service URL.
  tasks_audience = local.dispatcher_url

  registry = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.hookrun.repository_id}"
  images = {
    ingest     = coalesce(var.ingest_image, "${local.registry}/ingest:latest")
    dispatcher = coalesce(var.dispatcher_image, "${local.registry}/dispatcher:latest")
    receiver   = coalesce(var.receiver_image, "${local.registry}/receiver:latest")
  }

  event_retention = "${var.event_retention_days * 24}h"

  # The settings of internal/app.Common, which ingest and the dispatcher
  # both read.
  common_env = {
    GOOGLE_CLOUD_PROJECT       = var.project_id
    HOOKRUN_FIRESTORE_DATABASE = google_firestore_database.default.name
    HOOKRUN_EVENT_RETENTION    = local.event_retention
    HOOKRUN_CALL_TIMEOUT       = var.call_timeout
    LOG_LEVEL                  = var.log_level
  }

  # Variables the services read that production deliberately leaves unset
  # (run.tf sets every other one, defaults included), by service; "all"
  # applies to every service.
  local_only_env = {
    # Only for the local stack (scripts/dev, tests): Cloud Run sets PORT
    # itself and needs all interfaces; the emulator endpoints; the switches
    # that let endpoints and ownership challenges use http:// and loopback
    # or private addresses; the profiler (HOOKRUN_PPROF_ADDR, loopback
    # only, for scripts/bench -profile); the Prometheus endpoint
    # (HOOKRUN_METRICS_PORT), which Cloud Run would not route.
    all = [
      "PORT",
      "HOOKRUN_LISTEN_HOST",
      "HOOKRUN_SECRETMANAGER_ENDPOINT",
      "HOOKRUN_CLOUDTASKS_ENDPOINT",
      "HOOKRUN_ALLOW_HTTP_ENDPOINTS",
      "HOOKRUN_ALLOW_PRIVATE_NETWORKS",
      "PUBSUB_EMULATOR_HOST",
      "FIRESTORE_EMULATOR_HOST",
      "HOOKRUN_PPROF_ADDR",
      "HOOKRUN_METRICS_PORT",
    ]

    # Sample receiver features this deployment leaves off: it authenticates
    # by signature (WEBHOOK_SECRET from Secret Manager, so not
    # WEBHOOK_SECRET_NAME) and handles webhooks inline. Set these in run.tf
    # (and drop them here) for Slack, GitHub or Stripe signatures, a
    # shared-secret header, Meta verification, or a Pub/Sub / Cloud Tasks
    # hand-off consumed at POST /process.
    receiver = [
      "WEBHOOK_SECRET_NAME",
      "SLACK_SIGNING_SECRET",
      "GITHUB_WEBHOOK_SECRET",
      "STRIPE_WEBHOOK_SECRET",
      "SHARED_SECRET_HEADER",
      "SHARED_SECRET",
      "VERIFY_TOKEN",
      "HANDOFF_TOPIC",
      "HANDOFF_TASKS_QUEUE",
      "HANDOFF_TASKS_URL",
      "HANDOFF_TASKS_SERVICE_ACCOUNT",
      "PROCESS_AUTH",
      "PROCESS_SERVICE_ACCOUNT",
      "PROCESS_AUDIENCE",
    ]

    # Where ingest fetches the keys that sign producers' ID tokens: Google's
    # in production; a loopback URL in the end-to-end tests, which sign
    # their own tokens.
    ingest = [
      "HOOKRUN_GOOGLE_CERTS_URL",
    ]
  }

  # Service agents (Google-managed identities of this project).
  pubsub_agent     = "serviceAccount:service-${local.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  cloudtasks_agent = "serviceAccount:service-${local.project_number}@gcp-sa-cloudtasks.iam.gserviceaccount.com"
}
