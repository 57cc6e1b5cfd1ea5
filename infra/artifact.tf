# Docker repository for the three images, and the identity Cloud Build runs as.

resource "google_artifact_registry_repository" "hookrun" {
  project       = var.project_id
  location      = var.region
  repository_id = "hookrun"
  format        = "DOCKER"
  description   = "hookrun service images (ingest, dispatcher, receiver)"

  # Keep the 10 newest versions of each image, delete other versions after
  # 30 days. KEEP wins over DELETE, so a deployed image (one of the newest)
  # stays.
  cleanup_policy_dry_run = false
  cleanup_policies {
    id     = "keep-newest"
    action = "KEEP"
    most_recent_versions {
      keep_count = 10
    }
  }
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      tag_state  = "ANY"
      older_than = "2592000s"
    }
  }

  depends_on = [google_project_service.enabled]
}
