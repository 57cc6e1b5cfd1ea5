# The Cloud Run services. Every environment variable each service reads
# (the `env:"…"` tags of run/ingest/main.go, run/dispatcher/main.go,
# internal/app/app.go and functions/receiver/config.go, plus LOG_LEVEL) is
# set here explicitly, defaults included, so the whole production
# configuration is in one place. The exceptions are listed, with reasons,
# in local.local_only_env (main.tf).
#
# All services scale to zero (min_instance_count = 0) and get CPU only while
# serving requests (cpu_idle): nothing runs, and nothing is billed for
# instances, while no request arrives.

# --- ingest: public API ---------------------------------------------------------

resource "google_cloud_run_v2_service" "ingest" {
  project             = var.project_id
  name                = local.service_names.ingest
  location            = var.region
  description         = "hookrun producer and management API"
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = var.deletion_protection

  template {
    service_account                  = google_service_account.ingest.email
    timeout                          = var.ingest_timeout
    max_instance_request_concurrency = var.request_concurrency

    scaling {
      min_instance_count = 0
      max_instance_count = var.ingest_max_instances
    }

    containers {
      image = local.images.ingest

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      startup_probe {
        http_get {
          path = "/healthz"
        }
        period_seconds    = 2
        failure_threshold = 15
      }

      # internal/app.Common, the same on both services.
      dynamic "env" {
        for_each = local.common_env
        content {
          name  = env.key
          value = env.value
        }
      }
      # Metrics go to Cloud Monitoring (README: Metrics).
      env {
        name  = "OTEL_METRICS_EXPORTER"
        value = "gcp"
      }

      # run/ingest
      env {
        name = "HOOKRUN_ADMIN_TOKEN"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.admin_token.secret_id
            version = google_secret_manager_secret_version.admin_token.version
          }
        }
      }
      env {
        name  = "HOOKRUN_EVENTS_TOPIC"
        value = google_pubsub_topic.events.name
      }
      env {
        name  = "HOOKRUN_MAX_BODY_BYTES"
        value = tostring(var.max_body_bytes)
      }
      env {
        name = "HOOKRUN_PORTAL_KEY"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.portal_key.secret_id
            version = google_secret_manager_secret_version.portal_key.version
          }
        }
      }
      env {
        name  = "HOOKRUN_PORTAL_FRAME_ANCESTORS"
        value = var.portal_frame_ancestors
      }
      env {
        name  = "HOOKRUN_ROTATION_GRACE"
        value = var.rotation_grace
      }
      env {
        name  = "HOOKRUN_REQUEST_TIMEOUT"
        value = var.ingest_request_timeout
      }
      env {
        name  = "HOOKRUN_PUBLISH_TIMEOUT"
        value = var.publish_timeout
      }
      env {
        name  = "HOOKRUN_PUBLISH_DELAY"
        value = var.publish_delay
      }
      env {
        name  = "HOOKRUN_KEY_CACHE_TTL"
        value = var.key_cache_ttl
      }
      env {
        name  = "HOOKRUN_EVENT_FLUSH_INTERVAL"
        value = var.event_flush_interval
      }
      # Producers' GCP workloads send events with ID tokens of these
      # service accounts, issued for this audience.
      env {
        name  = "HOOKRUN_PRODUCER_SERVICE_ACCOUNTS"
        value = var.producer_service_accounts
      }
      env {
        name  = "HOOKRUN_PRODUCER_AUDIENCE"
        value = local.producer_audience
      }
      # Old signing secrets are disabled by a task calling the dispatcher
      # when a rotation's grace period ends.
      env {
        name  = "HOOKRUN_RETIRE_TARGET_URL"
        value = local.retire_target_url
      }
      env {
        name  = "HOOKRUN_TASKS_LOCATION"
        value = google_cloud_tasks_queue.deliveries.location
      }
      env {
        name  = "HOOKRUN_TASKS_QUEUE"
        value = google_cloud_tasks_queue.deliveries.name
      }
      env {
        name  = "HOOKRUN_TASKS_SERVICE_ACCOUNT"
        value = google_service_account.task_invoker.email
      }
      # The same audience as the dispatcher's own tasks: it checks one.
      env {
        name  = "HOOKRUN_TASKS_AUDIENCE"
        value = local.tasks_audience
      }
    }
  }

  traffic {
    type    = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
    percent = 100
  }

  # A revision starts only if its identity can read the admin token and
  # reach what it opens at start.
  depends_on = [
    google_secret_manager_secret_iam_member.ingest_reads_admin_token,
    google_project_iam_member.ingest_datastore,
    google_pubsub_topic_iam_member.ingest_publishes_events,
  ]
}

# --- dispatcher: private; Pub/Sub pushes to it, Cloud Tasks calls it back -----
#
# Two layers keep everyone else out. Ingress (var.dispatcher_ingress,
# internal by default): Pub/Sub push and Cloud Tasks of this project count
# as internal traffic when they call the run.app URL, the internet does
# not. IAM: only the push and task invoker identities hold run.invoker
# (iam.tf), so Cloud Run rejects any other caller before the container sees
# the request. The dispatcher then checks the OIDC token's audience and
# identity itself (HOOKRUN_PUSH_AUTH=oidc).

resource "google_cloud_run_v2_service" "dispatcher" {
  project             = var.project_id
  name                = local.service_names.dispatcher
  location            = var.region
  description         = "hookrun delivery: Pub/Sub push subscriber, Cloud Tasks target, webhook sender"
  ingress             = var.dispatcher_ingress
  deletion_protection = var.deletion_protection

  # Audiences Cloud Run accepts in ID tokens besides its own URLs: the
  # deterministic URL, which Pub/Sub pushes and both kinds of task carry
  # (listed so it is accepted whichever URL Cloud Run calls the main one).
  custom_audiences = distinct([local.push_audience, local.tasks_audience])

  template {
    service_account                  = google_service_account.dispatcher.email
    timeout                          = var.dispatcher_timeout
    max_instance_request_concurrency = var.request_concurrency

    scaling {
      # Pulling needs an instance that runs all the time, with CPU.
      min_instance_count = var.dispatcher_pull ? 1 : 0
      max_instance_count = var.dispatcher_max_instances
    }

    containers {
      image = local.images.dispatcher

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        cpu_idle          = !var.dispatcher_pull
        startup_cpu_boost = true
      }

      startup_probe {
        http_get {
          path = "/healthz"
        }
        period_seconds    = 2
        failure_threshold = 15
      }

      # internal/app.Common, the same on both services.
      dynamic "env" {
        for_each = local.common_env
        content {
          name  = env.key
          value = env.value
        }
      }
      # Metrics go to Cloud Monitoring (README: Metrics).
      env {
        name  = "OTEL_METRICS_EXPORTER"
        value = "gcp"
      }

      # run/dispatcher: who may push and call back
      env {
        name  = "HOOKRUN_PUSH_AUTH"
        value = "oidc"
      }
      env {
        name  = "HOOKRUN_PUSH_AUDIENCE"
        value = local.push_audience
      }
      env {
        name  = "HOOKRUN_PUSH_SERVICE_ACCOUNT"
        value = google_service_account.push_invoker.email
      }

      # run/dispatcher: scheduled retries
      env {
        name  = "HOOKRUN_TASKS_LOCATION"
        value = google_cloud_tasks_queue.deliveries.location
      }
      env {
        name  = "HOOKRUN_TASKS_QUEUE"
        value = google_cloud_tasks_queue.deliveries.name
      }
      env {
        name  = "HOOKRUN_TASKS_TARGET_URL"
        value = local.tasks_target_url
      }
      env {
        name  = "HOOKRUN_TASKS_SERVICE_ACCOUNT"
        value = google_service_account.task_invoker.email
      }
      env {
        name  = "HOOKRUN_TASKS_AUDIENCE"
        value = local.tasks_audience
      }

      # run/dispatcher: delivery
      env {
        name  = "HOOKRUN_REQUEST_TIMEOUT"
        value = var.dispatcher_request_timeout
      }
      env {
        name  = "HOOKRUN_DEAD_LETTERS_TOPIC"
        value = google_pubsub_topic.dead_letters.name
      }
      env {
        name  = "HOOKRUN_EVENTS_TOPIC"
        value = google_pubsub_topic.events.name
      }
      env {
        name  = "HOOKRUN_ENDPOINT_CACHE_TTL"
        value = var.endpoint_cache_ttl
      }
      env {
        name  = "HOOKRUN_MAX_FAN_OUT"
        value = tostring(var.max_fan_out)
      }
      env {
        name  = "HOOKRUN_DISABLE_AFTER_DEAD_LETTERS"
        value = tostring(var.disable_after_dead_letters)
      }
      env {
        name  = "HOOKRUN_ATTEMPT_FLUSH_INTERVAL"
        value = var.attempt_flush_interval
      }
      env {
        name  = "HOOKRUN_ENDPOINT_CHANGE_DELAY"
        value = var.endpoint_change_delay
      }

      # run/dispatcher: streaming pull, off by default
      env {
        name  = "HOOKRUN_PULL_SUBSCRIPTION"
        value = var.dispatcher_pull ? local.events_subscription : ""
      }
      env {
        name  = "HOOKRUN_PULL_MAX_OUTSTANDING"
        value = tostring(var.dispatcher_pull_max_outstanding)
      }
    }
  }

  traffic {
    type    = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
    percent = 100
  }

  depends_on = [
    google_project_iam_member.dispatcher_datastore,
    google_pubsub_topic_iam_member.dispatcher_publishes_dead_letters,
    google_pubsub_topic_iam_member.dispatcher_publishes_events,
  ]
}

# --- receiver: the sample receiver, public, optional ------------------------------

resource "google_cloud_run_v2_service" "receiver" {
  count = var.deploy_receiver ? 1 : 0

  project             = var.project_id
  name                = local.service_names.receiver
  location            = var.region
  description         = "hookrun sample webhook receiver (functions/receiver)"
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = var.deletion_protection

  template {
    service_account                  = google_service_account.receiver[0].email
    max_instance_request_concurrency = var.request_concurrency

    scaling {
      min_instance_count = 0
      max_instance_count = var.receiver_max_instances
    }

    containers {
      image = local.images.receiver

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      startup_probe {
        http_get {
          path = "/healthz"
        }
        period_seconds    = 2
        failure_threshold = 15
      }

      env {
        name  = "GOOGLE_CLOUD_PROJECT"
        value = var.project_id
      }
      env {
        name  = "LOG_LEVEL"
        value = var.log_level
      }
      env {
        name = "WEBHOOK_SECRET"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.receiver[0].secret_id
            version = var.receiver_secret_version
          }
        }
      }
      env {
        name  = "WEBHOOK_TOLERANCE"
        value = var.receiver_tolerance
      }
      env {
        name  = "HANDOFF_TIMEOUT"
        value = var.receiver_handoff_timeout
      }
      env {
        name  = "DEDUPE_WINDOW"
        value = var.receiver_dedupe_window
      }
      env {
        name  = "DEDUPE_MAX_IDS"
        value = tostring(var.receiver_dedupe_max_ids)
      }
      env {
        name  = "MAX_BODY_BYTES"
        value = tostring(var.receiver_max_body_bytes)
      }
    }
  }

  traffic {
    type    = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
    percent = 100
  }

  depends_on = [
    google_secret_manager_secret_iam_member.receiver_reads_its_secret,
    google_secret_manager_secret_version.receiver_placeholder,
  ]
}
