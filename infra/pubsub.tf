# Topics and push subscriptions, as internal/devstack wires them locally:
#   events             ingest (and other GCP services) publish events here
#   events-dispatcher  pushes them to the dispatcher's /pubsub/push
#   events-dead-letter what that subscription gave up on after 10 pushes
#   events-dead-letter-recorder  pushes those to /pubsub/dead-letter, where
#                      they are recorded as rejected messages
#   dead-letters       the dispatcher announces dead deliveries here

resource "google_pubsub_topic" "events" {
  project    = var.project_id
  name       = "events"
  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "dead_letters" {
  project                    = var.project_id
  name                       = "dead-letters"
  message_retention_duration = var.dead_letters_retention
  depends_on                 = [google_project_service.enabled]
}

resource "google_pubsub_topic" "events_dead_letter" {
  project    = var.project_id
  name       = "events-dead-letter"
  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "events_dispatcher" {
  project = var.project_id
  name    = local.events_subscription
  topic   = google_pubsub_topic.events.id

  ack_deadline_seconds       = var.push_ack_deadline_seconds
  message_retention_duration = var.subscription_retention

  # Without push_config (var.dispatcher_pull) it is a pull subscription,
  # which the dispatcher reads by streaming pull: switched, not added
  # beside it, as every subscription gets every event.
  dynamic "push_config" {
    for_each = var.dispatcher_pull ? [] : [local.push_endpoint]
    content {
      push_endpoint = push_config.value
      oidc_token {
        service_account_email = google_service_account.push_invoker.email
        audience              = local.push_audience
      }
    }
  }

  retry_policy {
    minimum_backoff = var.push_min_backoff
    maximum_backoff = var.push_max_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.events_dead_letter.id
    max_delivery_attempts = var.push_max_delivery_attempts
  }

  # Never expire: a quiet month must not delete the subscription.
  expiration_policy {
    ttl = ""
  }

  # Subscribe once the dispatcher serves and the push identity may call it,
  # so the first pushes find it (as the local stack does).
  depends_on = [
    google_cloud_run_v2_service_iam_member.push_invoker_invokes_dispatcher,
    google_service_account_iam_member.pubsub_agent_signs_as_push_invoker,
  ]
}

resource "google_pubsub_subscription" "events_dead_letter_recorder" {
  project = var.project_id
  name    = "events-dead-letter-recorder"
  topic   = google_pubsub_topic.events_dead_letter.id

  ack_deadline_seconds       = var.push_ack_deadline_seconds
  message_retention_duration = var.subscription_retention

  push_config {
    push_endpoint = local.dead_letter_endpoint
    oidc_token {
      service_account_email = google_service_account.push_invoker.email
      audience              = local.push_audience
    }
  }

  retry_policy {
    minimum_backoff = var.push_min_backoff
    maximum_backoff = var.push_max_backoff
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.push_invoker_invokes_dispatcher,
    google_service_account_iam_member.pubsub_agent_signs_as_push_invoker,
  ]
}
