# Identities and every grant hookrun needs, nothing more. README.md in this
# directory has the picture of who may call whom.
#
#   hookrun-ingest        runtime of ingest
#   hookrun-dispatcher    runtime of the dispatcher
#   hookrun-push-invoker  Pub/Sub signs its push OIDC tokens as it
#   hookrun-task-invoker  Cloud Tasks signs its task OIDC tokens as it
#   hookrun-receiver      runtime of the sample receiver (deploy_receiver)
#   hookrun-build         Cloud Build's identity for the image builds
#
# Grants are non-authoritative (*_iam_member): they add to whatever else the
# project has and never remove someone else's binding.

# --- Service accounts ------------------------------------------------------

resource "google_service_account" "ingest" {
  project      = var.project_id
  account_id   = "hookrun-ingest"
  display_name = "hookrun ingest (Cloud Run runtime)"
  depends_on   = [google_project_service.enabled]
}

resource "google_service_account" "dispatcher" {
  project      = var.project_id
  account_id   = "hookrun-dispatcher"
  display_name = "hookrun dispatcher (Cloud Run runtime)"
  depends_on   = [google_project_service.enabled]
}

resource "google_service_account" "push_invoker" {
  project      = var.project_id
  account_id   = "hookrun-push-invoker"
  display_name = "hookrun Pub/Sub push identity (invokes the dispatcher only)"
  depends_on   = [google_project_service.enabled]
}

resource "google_service_account" "task_invoker" {
  project      = var.project_id
  account_id   = "hookrun-task-invoker"
  display_name = "hookrun Cloud Tasks identity (invokes the dispatcher only)"
  depends_on   = [google_project_service.enabled]
}

resource "google_service_account" "receiver" {
  count        = var.deploy_receiver ? 1 : 0
  project      = var.project_id
  account_id   = "hookrun-receiver"
  display_name = "hookrun sample receiver (Cloud Run runtime)"
  depends_on   = [google_project_service.enabled]
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "hookrun-build"
  display_name = "hookrun image builds (Cloud Build)"
  depends_on   = [google_project_service.enabled]
}

locals {
  members = {
    ingest       = "serviceAccount:${google_service_account.ingest.email}"
    dispatcher   = "serviceAccount:${google_service_account.dispatcher.email}"
    push_invoker = "serviceAccount:${google_service_account.push_invoker.email}"
    task_invoker = "serviceAccount:${google_service_account.task_invoker.email}"
    build        = "serviceAccount:${google_service_account.build.email}"
  }

  # Endpoint secrets are created at run time, one per endpoint, named
  # hookrun-<tenant>-<endpoint> (internal/ingest/endpoints.go), so their
  # grants are project-level bindings with an IAM condition on the secret
  # name. Secret Manager names resources by project number in conditions;
  # the project-ID form is listed too, in case. The admin token's secret,
  # hookrun-admin-token, shares the prefix and is excluded by its exact name
  # (an endpoint secret can never be called that: endpoint IDs start "ep_").
  secret_name_roots = distinct([
    "projects/${local.project_number}/secrets/",
    "projects/${var.project_id}/secrets/",
  ])
  endpoint_secrets_condition = join(" && ", concat(
    ["(${join(" || ", [for r in local.secret_name_roots : "resource.name.startsWith(\"${r}hookrun-\")"])})"],
    [for r in local.secret_name_roots : "resource.name != \"${r}${google_secret_manager_secret.admin_token.secret_id}\""],
    [for r in local.secret_name_roots : "!resource.name.startsWith(\"${r}${google_secret_manager_secret.admin_token.secret_id}/\")"],
  ))
}

# --- Custom roles for endpoint secrets -------------------------------------
# Narrower than the predefined roles: secretmanager.admin would also let
# ingest change IAM policies and destroy versions, secretVersionManager
# would let the dispatcher destroy versions. These hold exactly the calls
# internal/secretmanager makes.

resource "google_project_iam_custom_role" "secret_creator" {
  project     = var.project_id
  role_id     = "hookrunSecretCreator"
  title       = "hookrun secret creator"
  description = "Create Secret Manager secrets (checked on the project, so it cannot carry a name condition)."
  permissions = ["secretmanager.secrets.create"]
  depends_on  = [google_project_service.enabled]
}

resource "google_project_iam_custom_role" "endpoint_secret_admin" {
  project     = var.project_id
  role_id     = "hookrunEndpointSecretAdmin"
  title       = "hookrun endpoint secret admin"
  description = "What ingest does to endpoint secrets: add versions (create, rotate), read them (rotation keeps the auth credentials), disable old versions, delete the secret with its endpoint."
  permissions = [
    "secretmanager.secrets.delete",
    "secretmanager.versions.access",
    "secretmanager.versions.add",
    "secretmanager.versions.disable",
  ]
  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_custom_role" "endpoint_secret_user" {
  project     = var.project_id
  role_id     = "hookrunEndpointSecretUser"
  title       = "hookrun endpoint secret user"
  description = "What the dispatcher does to endpoint secrets: read versions to sign deliveries, disable a version whose rotation grace period ended (/tasks/retire-secret)."
  permissions = [
    "secretmanager.versions.access",
    "secretmanager.versions.disable",
  ]
  depends_on = [google_project_service.enabled]
}

# --- ingest ------------------------------------------------------------------

# Firestore IAM is project-wide (roles/datastore.user: read and write
# documents, no index or database administration).
resource "google_project_iam_member" "ingest_datastore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = local.members.ingest
}

resource "google_pubsub_topic_iam_member" "ingest_publishes_events" {
  project = var.project_id
  topic   = google_pubsub_topic.events.name
  role    = "roles/pubsub.publisher"
  member  = local.members.ingest
}

resource "google_secret_manager_secret_iam_member" "ingest_reads_admin_token" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.admin_token.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = local.members.ingest
}

resource "google_secret_manager_secret_iam_member" "ingest_reads_portal_key" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.portal_key.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = local.members.ingest
}

resource "google_project_iam_member" "ingest_creates_secrets" {
  project = var.project_id
  role    = google_project_iam_custom_role.secret_creator.id
  member  = local.members.ingest
}

resource "google_project_iam_member" "ingest_manages_endpoint_secrets" {
  project = var.project_id
  role    = google_project_iam_custom_role.endpoint_secret_admin.id
  member  = local.members.ingest

  condition {
    title       = "hookrun-endpoint-secrets"
    description = "Secrets named hookrun-*, except hookrun-admin-token."
    expression  = local.endpoint_secrets_condition
  }
}

# ingest schedules the end of a rotation's grace period as a task
# (HOOKRUN_RETIRE_TARGET_URL) that carries the task invoker's OIDC token.
resource "google_cloud_tasks_queue_iam_member" "ingest_enqueues" {
  project  = var.project_id
  location = google_cloud_tasks_queue.deliveries.location
  name     = google_cloud_tasks_queue.deliveries.name
  role     = "roles/cloudtasks.enqueuer"
  member   = local.members.ingest
}

resource "google_service_account_iam_member" "ingest_acts_as_task_invoker" {
  service_account_id = google_service_account.task_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = local.members.ingest
}

# --- dispatcher --------------------------------------------------------------

resource "google_project_iam_member" "dispatcher_datastore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = local.members.dispatcher
}

resource "google_project_iam_member" "dispatcher_uses_endpoint_secrets" {
  project = var.project_id
  role    = google_project_iam_custom_role.endpoint_secret_user.id
  member  = local.members.dispatcher

  condition {
    title       = "hookrun-endpoint-secrets"
    description = "Secrets named hookrun-*, except hookrun-admin-token."
    expression  = local.endpoint_secrets_condition
  }
}

resource "google_cloud_tasks_queue_iam_member" "dispatcher_enqueues" {
  project  = var.project_id
  location = google_cloud_tasks_queue.deliveries.location
  name     = google_cloud_tasks_queue.deliveries.name
  role     = "roles/cloudtasks.enqueuer"
  member   = local.members.dispatcher
}

resource "google_service_account_iam_member" "dispatcher_acts_as_task_invoker" {
  service_account_id = google_service_account.task_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = local.members.dispatcher
}

# Operational events for tenants (endpoint disabled, dead letters…) go
# through the events topic like any other event.
resource "google_pubsub_topic_iam_member" "dispatcher_publishes_events" {
  project = var.project_id
  topic   = google_pubsub_topic.events.name
  role    = "roles/pubsub.publisher"
  member  = local.members.dispatcher
}

resource "google_pubsub_topic_iam_member" "dispatcher_publishes_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letters.name
  role    = "roles/pubsub.publisher"
  member  = local.members.dispatcher
}

# --- The two invoker identities: run.invoker on the dispatcher only ----------

resource "google_cloud_run_v2_service_iam_member" "push_invoker_invokes_dispatcher" {
  project  = var.project_id
  location = google_cloud_run_v2_service.dispatcher.location
  name     = google_cloud_run_v2_service.dispatcher.name
  role     = "roles/run.invoker"
  member   = local.members.push_invoker
}

resource "google_cloud_run_v2_service_iam_member" "task_invoker_invokes_dispatcher" {
  project  = var.project_id
  location = google_cloud_run_v2_service.dispatcher.location
  name     = google_cloud_run_v2_service.dispatcher.name
  role     = "roles/run.invoker"
  member   = local.members.task_invoker
}

# --- Pub/Sub service agent -----------------------------------------------------

# Mints the push OIDC tokens as the push invoker. Projects made since April
# 2021 give the agent this through its own role; older ones need it, and
# granting it on this one account is harmless.
resource "google_service_account_iam_member" "pubsub_agent_signs_as_push_invoker" {
  service_account_id = google_service_account.push_invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
  depends_on         = [google_pubsub_topic.events]
}

# A dead-letter policy needs the agent to publish to the dead-letter topic
# and to acknowledge (subscribe) on the source subscription.
resource "google_pubsub_topic_iam_member" "pubsub_agent_publishes_push_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.events_dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

# With var.dispatcher_pull, the dispatcher pulls and acknowledges the events
# itself.
resource "google_pubsub_subscription_iam_member" "dispatcher_pulls_events" {
  count        = var.dispatcher_pull ? 1 : 0
  project      = var.project_id
  subscription = google_pubsub_subscription.events_dispatcher.name
  role         = "roles/pubsub.subscriber"
  member       = local.members.dispatcher
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_acks_events" {
  project      = var.project_id
  subscription = google_pubsub_subscription.events_dispatcher.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# --- Cloud Tasks service agent -------------------------------------------------

# Mints the task OIDC tokens as the task invoker. Like the Pub/Sub agent,
# only projects that enabled Cloud Tasks before 2019 lack this; granted on
# this one account for the same reason. After the queue exists, so the
# agent does too.
resource "google_service_account_iam_member" "cloudtasks_agent_signs_as_task_invoker" {
  service_account_id = google_service_account.task_invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.cloudtasks_agent
  depends_on         = [google_cloud_tasks_queue.deliveries]
}

# --- Other publishers to the events topic --------------------------------------

resource "google_pubsub_topic_iam_member" "extra_event_publishers" {
  for_each = toset(var.extra_event_publishers)
  project  = var.project_id
  topic    = google_pubsub_topic.events.name
  role     = "roles/pubsub.publisher"
  member   = each.value
}

# --- Public entry points ---------------------------------------------------------

# ingest authenticates every call itself (tenant API key or admin token).
resource "google_cloud_run_v2_service_iam_member" "ingest_public" {
  project  = var.project_id
  location = google_cloud_run_v2_service.ingest.location
  name     = google_cloud_run_v2_service.ingest.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# The sample receiver authenticates every webhook by its signature; senders
# have no Google credentials.
resource "google_cloud_run_v2_service_iam_member" "receiver_public" {
  count    = var.deploy_receiver ? 1 : 0
  project  = var.project_id
  location = google_cloud_run_v2_service.receiver[0].location
  name     = google_cloud_run_v2_service.receiver[0].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_secret_manager_secret_iam_member" "receiver_reads_its_secret" {
  count     = var.deploy_receiver ? 1 : 0
  project   = var.project_id
  secret_id = google_secret_manager_secret.receiver[0].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.receiver[0].email}"
}

# --- Telemetry: metrics to Cloud Monitoring, traces to Cloud Trace -----------

# The services export metrics through OpenTelemetry's Google Cloud exporter
# and traces over OTLP to the Telemetry API, both as the runtime identity:
# metricWriter allows writing time series and creating the metric
# descriptors of hookrun's own metrics (nothing can be read),
# cloudtrace.agent allows writing spans only. Both are checked on the
# project, so they are project-level grants. The sample receiver exports
# traces only, over OTLP to telemetry.googleapis.com (its tracing.go).
locals {
  telemetry_grants = {
    ingest_writes_metrics     = { member = local.members.ingest, role = "roles/monitoring.metricWriter" }
    ingest_writes_traces      = { member = local.members.ingest, role = "roles/cloudtrace.agent" }
    dispatcher_writes_metrics = { member = local.members.dispatcher, role = "roles/monitoring.metricWriter" }
    dispatcher_writes_traces  = { member = local.members.dispatcher, role = "roles/cloudtrace.agent" }
  }
}

resource "google_project_iam_member" "telemetry" {
  for_each = local.telemetry_grants
  project  = var.project_id
  role     = each.value.role
  member   = each.value.member
}

resource "google_project_iam_member" "receiver_writes_traces" {
  count   = var.deploy_receiver ? 1 : 0
  project = var.project_id
  role    = "roles/cloudtrace.agent"
  member  = "serviceAccount:${google_service_account.receiver[0].email}"
}

# --- Image builds ---------------------------------------------------------------

# Cloud Build runs as hookrun-build (gcloud builds submit
# --service-account=projects/<project>/serviceAccounts/<email>, with
# options.logging CLOUD_LOGGING_ONLY): it may push to the repository, write
# build logs and read the sources gcloud stages in gs://<project>_cloudbuild.
# It cannot deploy: Terraform rolls out new images (run.tf).
resource "google_artifact_registry_repository_iam_member" "build_pushes_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.hookrun.location
  repository = google_artifact_registry_repository.hookrun.name
  role       = "roles/artifactregistry.writer"
  member     = local.members.build
}

resource "google_project_iam_member" "build_writes_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = local.members.build
}

resource "google_project_iam_member" "build_reads_sources" {
  project = var.project_id
  role    = "roles/storage.objectViewer"
  member  = local.members.build

  condition {
    title       = "cloudbuild-source-bucket"
    description = "Only the bucket gcloud builds submit stages sources in."
    expression  = "resource.name.startsWith(\"projects/_/buckets/${var.project_id}_cloudbuild/\") || resource.name == \"projects/_/buckets/${var.project_id}_cloudbuild\""
  }
}
