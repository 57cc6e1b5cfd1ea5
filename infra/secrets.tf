# Secrets Terraform owns. Endpoint signing secrets (hookrun-<tenant>-<endpoint>)
# are created and rotated by ingest at run time, not here.

# --- Admin token ---------------------------------------------------------------
# ingest gets it as HOOKRUN_ADMIN_TOKEN (run.tf), pinned to the version made
# here, so replacing the token rolls out a new ingest revision:
#   terraform apply -replace=random_password.admin_token
# (or pass a new var.admin_token).

resource "random_password" "admin_token" {
  length  = 48
  special = false
}

resource "google_secret_manager_secret" "admin_token" {
  project   = var.project_id
  secret_id = "hookrun-admin-token"

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_version" "admin_token" {
  secret      = google_secret_manager_secret.admin_token.id
  secret_data = coalesce(var.admin_token, random_password.admin_token.result)

  # On rotation the new version exists before ingest's new revision points
  # at it, and the old one is destroyed only after that.
  lifecycle {
    create_before_destroy = true
  }
}

# --- Portal session key -----------------------------------------------------------
# ingest signs the tenant portal's session cookies with it
# (HOOKRUN_PORTAL_KEY), the same on every instance. Replacing it ends every
# open portal session:
#   terraform apply -replace=random_password.portal_key
# Named outside the hookrun- prefix: ingest's rights over endpoint secrets
# do not reach it.

resource "random_password" "portal_key" {
  length  = 48
  special = false
}

resource "google_secret_manager_secret" "portal_key" {
  project   = var.project_id
  secret_id = "portal-session-key"

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_version" "portal_key" {
  secret      = google_secret_manager_secret.portal_key.id
  secret_data = random_password.portal_key.result

  lifecycle {
    create_before_destroy = true
  }
}

# --- Sample receiver's signing secret --------------------------------------------
# The receiver verifies webhooks with the whsec_ secret of the hookrun
# endpoint that points at it. That secret exists only once the endpoint is
# created, and the receiver must be up to answer the endpoint's ownership
# challenge, so Terraform starts it with a random placeholder secret. Then
# (scripts/deploy does this): create the endpoint, add its secret as a new
# version here (gcloud secrets versions add receiver-webhook-secret), apply
# with receiver_secret_version = <that version>, and call :verify.
# Named outside the hookrun- prefix: ingest and the dispatcher cannot touch it.

resource "random_id" "receiver_placeholder_secret" {
  count       = var.deploy_receiver ? 1 : 0
  byte_length = 32
}

resource "google_secret_manager_secret" "receiver" {
  count     = var.deploy_receiver ? 1 : 0
  project   = var.project_id
  secret_id = "receiver-webhook-secret"

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_version" "receiver_placeholder" {
  count       = var.deploy_receiver ? 1 : 0
  secret      = google_secret_manager_secret.receiver[0].id
  secret_data = "whsec_${random_id.receiver_placeholder_secret[0].b64_std}"
}
