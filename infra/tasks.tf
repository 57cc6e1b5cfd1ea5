# The retry queue. hookrun's webhook retry schedule is made of separate,
# named tasks (one per attempt, POST /tasks/deliver at its time); the
# queue's own retry config only covers a dispatcher that crashed or failed
# to record an attempt, so it retries without end, backing off to 5 min.
resource "google_cloud_tasks_queue" "deliveries" {
  project  = var.project_id
  name     = "deliveries"
  location = var.region

  rate_limits {
    max_dispatches_per_second = var.tasks_max_dispatches_per_second
    max_concurrent_dispatches = var.tasks_max_concurrent_dispatches
  }

  retry_config {
    max_attempts = var.tasks_max_attempts
    min_backoff  = var.tasks_min_backoff
    max_backoff  = var.tasks_max_backoff
  }

  depends_on = [google_project_service.enabled]
}
