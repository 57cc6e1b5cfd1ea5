# The Firestore database, the composite indexes the code's queries need,
# and the TTL policies that enforce retention.
#
# A project that already has a (default) database (made by hand, or by App
# Engine) must import it before the first apply:
#   terraform import google_firestore_database.default "projects/<project>/databases/(default)"

resource "google_firestore_database" "default" {
  project                     = var.project_id
  name                        = "(default)"
  location_id                 = local.firestore_location
  type                        = "FIRESTORE_NATIVE"
  app_engine_integration_mode = "DISABLED"
  delete_protection_state     = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  # ABANDON: `terraform destroy` forgets the database and keeps its data;
  # DELETE (deletion_protection = false) deletes it.
  deletion_policy = var.deletion_protection ? "ABANDON" : "DELETE"

  depends_on = [google_project_service.enabled]
}

# --- Composite indexes -----------------------------------------------------------
#
# Deliveries live in tenants/{tenant}/deliveries and every query runs on one
# tenant's subcollection, so these indexes have COLLECTION scope on the
# collection ID "deliveries" (one index serves every tenant's). Firestore
# appends __name__ to an index in the direction of its last field; where a
# query orders by __name__ (the newest-first paging of
# internal/firestore/paging.go) it is written out. Each index is written out
# in full, not generated, so a reviewer (and the offline check) can match it
# against the query it serves.

# ListEndpointDeliveries (internal/firestore/deliveries.go): endpoint_id ==,
# state ==.
resource "google_firestore_index" "deliveries_endpoint_state" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "endpoint_id"
    order      = "ASCENDING"
  }
  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
}

# Dead letters (internal/firestore/deadletters.go): state == "dead",
# dead_time range, newest first.
resource "google_firestore_index" "deliveries_dead" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "dead_time"
    order      = "DESCENDING"
  }
  fields {
    field_path = "__name__"
    order      = "DESCENDING"
  }
}

# Dead letters of one endpoint.
resource "google_firestore_index" "deliveries_dead_by_endpoint" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "endpoint_id"
    order      = "ASCENDING"
  }
  fields {
    field_path = "dead_time"
    order      = "DESCENDING"
  }
  fields {
    field_path = "__name__"
    order      = "DESCENDING"
  }
}

# Dead letters of one event type.
resource "google_firestore_index" "deliveries_dead_by_type" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "event_type"
    order      = "ASCENDING"
  }
  fields {
    field_path = "dead_time"
    order      = "DESCENDING"
  }
  fields {
    field_path = "__name__"
    order      = "DESCENDING"
  }
}

# Dead letters of one endpoint and event type.
resource "google_firestore_index" "deliveries_dead_by_endpoint_type" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "endpoint_id"
    order      = "ASCENDING"
  }
  fields {
    field_path = "event_type"
    order      = "ASCENDING"
  }
  fields {
    field_path = "dead_time"
    order      = "DESCENDING"
  }
  fields {
    field_path = "__name__"
    order      = "DESCENDING"
  }
}

# CountDeadLetters and EachDeadLetter (bulk replay): the same filters without
# an order. A dead_time range then orders by dead_time ascending, which the
# descending indexes above cannot serve.
resource "google_firestore_index" "deliveries_dead_asc" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "dead_time"
    order      = "ASCENDING"
  }
}

# The same, of one endpoint.
resource "google_firestore_index" "deliveries_dead_by_endpoint_asc" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "endpoint_id"
    order      = "ASCENDING"
  }
  fields {
    field_path = "dead_time"
    order      = "ASCENDING"
  }
}

# The same, of one event type.
resource "google_firestore_index" "deliveries_dead_by_type_asc" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "event_type"
    order      = "ASCENDING"
  }
  fields {
    field_path = "dead_time"
    order      = "ASCENDING"
  }
}

# The same, of one endpoint and event type.
resource "google_firestore_index" "deliveries_dead_by_endpoint_type_asc" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "endpoint_id"
    order      = "ASCENDING"
  }
  fields {
    field_path = "event_type"
    order      = "ASCENDING"
  }
  fields {
    field_path = "dead_time"
    order      = "ASCENDING"
  }
}

# Metrics (internal/firestore/metrics.go): COUNT and SUM over an event_time
# window, of one endpoint.
resource "google_firestore_index" "deliveries_endpoint_window" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "endpoint_id"
    order      = "ASCENDING"
  }
  fields {
    field_path = "event_time"
    order      = "ASCENDING"
  }
}

# Metrics: COUNT per state over an event_time window.
resource "google_firestore_index" "deliveries_state_window" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "event_time"
    order      = "ASCENDING"
  }
}

# Metrics: COUNT per state over an event_time window, of one endpoint.
resource "google_firestore_index" "deliveries_endpoint_state_window" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "endpoint_id"
    order      = "ASCENDING"
  }
  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "event_time"
    order      = "ASCENDING"
  }
}

# ListRejected (internal/firestore/deliveries.go): rejected_messages, a
# top-level collection, of one tenant, newest first. Across tenants the
# automatic single-field index on reject_time serves.
resource "google_firestore_index" "rejected_by_tenant" {
  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = "rejected_messages"
  query_scope = "COLLECTION"

  fields {
    field_path = "tenant_id"
    order      = "ASCENDING"
  }
  fields {
    field_path = "reject_time"
    order      = "DESCENDING"
  }
  fields {
    field_path = "__name__"
    order      = "DESCENDING"
  }
}

# --- TTL policies ------------------------------------------------------------------
#
# Events, deliveries and rejected messages carry expire_time (now +
# HOOKRUN_EVENT_RETENTION); Firestore deletes a document within about a day
# after it. A TTL policy applies to a collection group, so "events" and
# "deliveries" cover every tenant's subcollection. No query reads
# expire_time, so its single-field indexes are turned off (index_config {}):
# cheaper writes, and no hotspot on an ever-increasing timestamp. Field and
# index operations on one collection group contend, so each TTL field waits
# for the indexes of its collection group.

resource "google_firestore_field" "events_expire_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "events"
  field      = "expire_time"

  ttl_config {}
  index_config {}
}

resource "google_firestore_field" "deliveries_expire_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "deliveries"
  field      = "expire_time"

  ttl_config {}
  index_config {}

  depends_on = [
    google_firestore_index.deliveries_endpoint_state,
    google_firestore_index.deliveries_dead,
    google_firestore_index.deliveries_dead_by_endpoint,
    google_firestore_index.deliveries_dead_by_type,
    google_firestore_index.deliveries_dead_by_endpoint_type,
    google_firestore_index.deliveries_dead_asc,
    google_firestore_index.deliveries_dead_by_endpoint_asc,
    google_firestore_index.deliveries_dead_by_type_asc,
    google_firestore_index.deliveries_dead_by_endpoint_type_asc,
    google_firestore_index.deliveries_endpoint_window,
    google_firestore_index.deliveries_state_window,
    google_firestore_index.deliveries_endpoint_state_window,
  ]
}

resource "google_firestore_field" "rejected_messages_expire_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "rejected_messages"
  field      = "expire_time"

  ttl_config {}
  index_config {}

  depends_on = [google_firestore_index.rejected_by_tenant]
}
