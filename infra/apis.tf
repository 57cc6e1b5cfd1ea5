# The APIs hookrun uses. Disabling them on destroy is left off on purpose: other
# things in the project may use them, and re-enabling is slow.
resource "google_project_service" "enabled" {
  for_each = toset([
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudtasks.googleapis.com",
    "cloudtrace.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "telemetry.googleapis.com", # Cloud Trace's OTLP endpoint: the services' and the receiver's traces
  ])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
