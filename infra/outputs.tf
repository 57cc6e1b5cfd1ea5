output "project_number" {
  description = "Number of the project (part of the deterministic service URLs)."
  value       = local.project_number
}

output "ingest_url" {
  description = "URL of the public ingest API, as Cloud Run reports it."
  value       = google_cloud_run_v2_service.ingest.uri
}

output "dispatcher_url" {
  description = "URL of the private dispatcher, as Cloud Run reports it."
  value       = google_cloud_run_v2_service.dispatcher.uri
}

output "receiver_url" {
  description = "URL of the sample receiver, or null without deploy_receiver."
  value       = var.deploy_receiver ? google_cloud_run_v2_service.receiver[0].uri : null
}

output "deterministic_urls" {
  description = "The deterministic URLs (https://<service>-<project number>.<region>.run.app) the configuration uses for push endpoints, task targets and audiences; they reach the same services as the URLs above."
  value       = local.service_urls
}

output "events_topic" {
  description = "Topic producers (ingest, other GCP services) publish events to."
  value       = google_pubsub_topic.events.name
}

output "dead_letters_topic" {
  description = "Topic the dispatcher announces dead deliveries on; subscribe alerting here."
  value       = google_pubsub_topic.dead_letters.name
}

output "push_dead_letter_topic" {
  description = "Dead-letter topic of the events-dispatcher subscription."
  value       = google_pubsub_topic.events_dead_letter.name
}

output "subscriptions" {
  description = "The push subscriptions to the dispatcher."
  value = {
    events      = google_pubsub_subscription.events_dispatcher.name
    dead_letter = google_pubsub_subscription.events_dead_letter_recorder.name
  }
}

output "tasks_queue" {
  description = "Name of the Cloud Tasks retry queue."
  value       = google_cloud_tasks_queue.deliveries.name
}

output "tasks_queue_id" {
  description = "Full resource name of the Cloud Tasks retry queue."
  value       = google_cloud_tasks_queue.deliveries.id
}

output "tasks_location" {
  description = "Location of the Cloud Tasks retry queue."
  value       = google_cloud_tasks_queue.deliveries.location
}

output "firestore_database" {
  description = "Firestore database ID."
  value       = google_firestore_database.default.name
}

output "artifact_registry" {
  description = "Docker repository path; images are <this>/ingest, /dispatcher, /receiver."
  value       = local.registry
}

output "images" {
  description = "The images the services run."
  value       = var.deploy_receiver ? local.images : { for k, v in local.images : k => v if k != "receiver" }
}

output "service_accounts" {
  description = "Email of each hookrun identity."
  value = {
    ingest       = google_service_account.ingest.email
    dispatcher   = google_service_account.dispatcher.email
    push_invoker = google_service_account.push_invoker.email
    task_invoker = google_service_account.task_invoker.email
    receiver     = var.deploy_receiver ? google_service_account.receiver[0].email : null
    build        = google_service_account.build.email
  }
}

output "admin_token_secret" {
  description = "Secret Manager secret holding the ingest admin token."
  value       = google_secret_manager_secret.admin_token.secret_id
}

output "admin_token" {
  description = "The ingest admin token (terraform output -raw admin_token)."
  value       = google_secret_manager_secret_version.admin_token.secret_data
  sensitive   = true
}

output "receiver_secret" {
  description = "Secret the sample receiver reads its whsec_ signing secret from, or null without deploy_receiver."
  value       = var.deploy_receiver ? google_secret_manager_secret.receiver[0].secret_id : null
}
