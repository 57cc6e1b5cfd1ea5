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
# Deliveries and events live in tenants/{tenant}/deliveries and .../events
# and every query runs on one tenant's subcollection, so these indexes have
# COLLECTION scope on the collection ID (one index serves every tenant's). Firestore
# appends __name__ to an index in the direction of its last field; where a
# query orders by __name__ (the newest-first paging of
# internal/firestore/paging.go) it is written out. Each entry names the query
# it serves; internal/firestore/indexes.go declares the same list and the
# offline check (internal/infracheck) keeps the two equal.
locals {
  composite_indexes = {
    # ListEndpointDeliveries (deliveries.go): endpoint_id ==, state ==.
    deliveries_endpoint_state = { collection = "deliveries", fields = [["endpoint_id", "ASCENDING"], ["state", "ASCENDING"]] }

    # ListDeadLetters (deadletters.go): state == "dead", dead_time range,
    # newest first; optionally of one endpoint and/or event type.
    deliveries_dead                  = { collection = "deliveries", fields = [["state", "ASCENDING"], ["dead_time", "DESCENDING"], ["__name__", "DESCENDING"]] }
    deliveries_dead_by_endpoint      = { collection = "deliveries", fields = [["state", "ASCENDING"], ["endpoint_id", "ASCENDING"], ["dead_time", "DESCENDING"], ["__name__", "DESCENDING"]] }
    deliveries_dead_by_type          = { collection = "deliveries", fields = [["state", "ASCENDING"], ["event_type", "ASCENDING"], ["dead_time", "DESCENDING"], ["__name__", "DESCENDING"]] }
    deliveries_dead_by_endpoint_type = { collection = "deliveries", fields = [["state", "ASCENDING"], ["endpoint_id", "ASCENDING"], ["event_type", "ASCENDING"], ["dead_time", "DESCENDING"], ["__name__", "DESCENDING"]] }

    # CountDeadLetters and EachDeadLetter (bulk replay): the same filters
    # without an order. A dead_time range then orders by dead_time
    # ascending, which the descending indexes above cannot serve.
    deliveries_dead_asc                  = { collection = "deliveries", fields = [["state", "ASCENDING"], ["dead_time", "ASCENDING"]] }
    deliveries_dead_by_endpoint_asc      = { collection = "deliveries", fields = [["state", "ASCENDING"], ["endpoint_id", "ASCENDING"], ["dead_time", "ASCENDING"]] }
    deliveries_dead_by_type_asc          = { collection = "deliveries", fields = [["state", "ASCENDING"], ["event_type", "ASCENDING"], ["dead_time", "ASCENDING"]] }
    deliveries_dead_by_endpoint_type_asc = { collection = "deliveries", fields = [["state", "ASCENDING"], ["endpoint_id", "ASCENDING"], ["event_type", "ASCENDING"], ["dead_time", "ASCENDING"]] }

    # Metrics (metrics.go): COUNT and SUM over an event_time window of
    # every shard, of one endpoint, per state, both, or all; COUNT of the
    # accepted events of every shard in a receive_time window.
    deliveries_window                = { collection = "deliveries", fields = [["shard", "ASCENDING"], ["event_time", "ASCENDING"]] }
    deliveries_endpoint_window       = { collection = "deliveries", fields = [["endpoint_id", "ASCENDING"], ["shard", "ASCENDING"], ["event_time", "ASCENDING"]] }
    deliveries_state_window          = { collection = "deliveries", fields = [["state", "ASCENDING"], ["shard", "ASCENDING"], ["event_time", "ASCENDING"]] }
    deliveries_endpoint_state_window = { collection = "deliveries", fields = [["endpoint_id", "ASCENDING"], ["state", "ASCENDING"], ["shard", "ASCENDING"], ["event_time", "ASCENDING"]] }
    events_accepted_window           = { collection = "events", fields = [["state", "ASCENDING"], ["shard", "ASCENDING"], ["receive_time", "ASCENDING"]] }

    # GetReplay (replayrecords.go): COUNT of a replay's deliveries by state.
    deliveries_replay_outcomes = { collection = "deliveries", fields = [["replay_chain", "ASCENDING"], ["chain", "ASCENDING"], ["state", "ASCENDING"]] }

    # ListEvents (eventlist.go) without a state filter: accepted events,
    # optionally of one type, of every shard, a receive_time range, newest
    # first.
    events_accepted         = { collection = "events", fields = [["state", "ASCENDING"], ["shard", "ASCENDING"], ["receive_time", "DESCENDING"], ["__name__", "DESCENDING"]] }
    events_accepted_by_type = { collection = "events", fields = [["state", "ASCENDING"], ["type", "ASCENDING"], ["shard", "ASCENDING"], ["receive_time", "DESCENDING"], ["__name__", "DESCENDING"]] }

    # ListEvents (eventlist.go) by delivery state: deliveries in one state,
    # optionally of one event type, of every shard, an event_time range,
    # newest event first.
    deliveries_state_newest      = { collection = "deliveries", fields = [["state", "ASCENDING"], ["shard", "ASCENDING"], ["event_time", "DESCENDING"], ["__name__", "DESCENDING"]] }
    deliveries_state_type_newest = { collection = "deliveries", fields = [["state", "ASCENDING"], ["event_type", "ASCENDING"], ["shard", "ASCENDING"], ["event_time", "DESCENDING"], ["__name__", "DESCENDING"]] }

    # ListRejected (deliveries.go): rejected_messages, a top-level
    # collection, of one tenant, newest first. Across tenants the automatic
    # single-field index on reject_time serves.
    rejected_by_tenant = { collection = "rejected_messages", fields = [["tenant_id", "ASCENDING"], ["reject_time", "DESCENDING"], ["__name__", "DESCENDING"]] }
  }
}

resource "google_firestore_index" "composite" {
  for_each = local.composite_indexes

  project     = var.project_id
  database    = google_firestore_database.default.name
  collection  = each.value.collection
  query_scope = "COLLECTION"

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value[0]
      order      = fields.value[1]
    }
  }
}

# --- TTL policies ------------------------------------------------------------------
#
# Events, deliveries and rejected messages carry expire_time (now +
# HOOKRUN_EVENT_RETENTION), the record of a finished tenant deletion 30
# days after its end; Firestore deletes a document within about a day
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

  depends_on = [google_firestore_index.composite]
}

resource "google_firestore_field" "deliveries_expire_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "deliveries"
  field      = "expire_time"

  ttl_config {}
  index_config {}

  depends_on = [google_firestore_index.composite]
}

resource "google_firestore_field" "rejected_messages_expire_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "rejected_messages"
  field      = "expire_time"

  ttl_config {}
  index_config {}

  depends_on = [google_firestore_index.composite]
}

resource "google_firestore_field" "tenant_deletions_expire_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "tenant_deletions"
  field      = "expire_time"

  ttl_config {}
  index_config {}
}

# The markers of dead letters counted in a row (tenants/*/dead_counted/
# {delivery}:{chain}) expire with their deliveries.
resource "google_firestore_field" "dead_counted_expire_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "dead_counted"
  field      = "expire_time"

  ttl_config {}
  index_config {}
}

# Portal links (portal_links/{sha256(token)}) expire within a day of their
# creation (hookrun.MaxPortalLinkTTL), opened or not.
resource "google_firestore_field" "portal_links_expire_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "portal_links"
  field      = "expire_time"

  ttl_config {}
  index_config {}
}

# --- Single-field index exemptions -------------------------------------------------
#
# Firestore indexes every field by default. A collection with an indexed
# field whose value only grows (a timestamp) takes at most 500 writes per
# second (https://cloud.google.com/firestore/docs/solutions/shard-timestamp),
# and every index entry is a write to pay. The timestamps of the per-event
# collections that no query reads are therefore not indexed; the expire_time
# fields are exempted with their TTL policies above. The timestamps queries
# order by (events' receive_time, deliveries' event_time) are read only
# through the composite indexes above, which hold the document's shard
# before them (internal/firestore/shards.go), so their single-field indexes
# (and the shard's) go too (firestore.ShardedFields). The other queried
# fields (firestore.QueryFields) stay indexed: internal/infracheck checks
# that none of them is exempted, and that every timestamp
# firestore.SequentialFields lists is either exempted or read by a query
# through its single-field index.
# Operations on the fields of one collection group contend, so each waits
# for the one before it.
resource "google_firestore_field" "events_lease_until" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "events"
  field      = "lease_until"

  index_config {}

  depends_on = [google_firestore_field.events_expire_time]
}

resource "google_firestore_field" "deliveries_update_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "deliveries"
  field      = "update_time"

  index_config {}

  depends_on = [google_firestore_field.deliveries_expire_time]
}

resource "google_firestore_field" "deliveries_next_attempt_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "deliveries"
  field      = "next_attempt_time"

  index_config {}

  depends_on = [google_firestore_field.deliveries_update_time]
}

resource "google_firestore_field" "deliveries_replay_claim_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "deliveries"
  field      = "replay_claim_time"

  index_config {}

  depends_on = [google_firestore_field.deliveries_next_attempt_time]
}

resource "google_firestore_field" "events_receive_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "events"
  field      = "receive_time"

  index_config {}

  depends_on = [google_firestore_field.events_lease_until]
}

resource "google_firestore_field" "events_shard" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "events"
  field      = "shard"

  index_config {}

  depends_on = [google_firestore_field.events_receive_time]
}

resource "google_firestore_field" "deliveries_event_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "deliveries"
  field      = "event_time"

  index_config {}

  depends_on = [google_firestore_field.deliveries_replay_claim_time]
}

resource "google_firestore_field" "deliveries_shard" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "deliveries"
  field      = "shard"

  index_config {}

  depends_on = [google_firestore_field.deliveries_event_time]
}

resource "google_firestore_field" "rejected_messages_publish_time" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "rejected_messages"
  field      = "publish_time"

  index_config {}

  depends_on = [google_firestore_field.rejected_messages_expire_time]
}
