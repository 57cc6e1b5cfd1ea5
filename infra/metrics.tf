# hookrun's own metrics as Cloud Monitoring sees them, and the filters that
# alerts.tf and dashboard.tf select them with.
#
# The services export their OpenTelemetry instruments (internal/metrics)
# with Google's Cloud Monitoring exporter, which names each one
# workload.googleapis.com/<instrument name>, dots kept
# (workload.googleapis.com/hookrun.deliveries), makes every attribute a
# metric label of the same name (outcome, status_class…), counters
# CUMULATIVE INT64 and histograms CUMULATIVE DISTRIBUTION. The exporter maps
# the OpenTelemetry resource to a monitored resource: on Cloud Run the GCP
# resource detector supplies faas.name and faas.instance, which it maps to
# generic_task (job = service, task_id = instance). Alert filters must name
# a resource type, so every filter below does.
#
# Cloud Monitoring knows a workload metric only once something wrote it,
# and refuses an alert policy whose filter names an unknown metric (404
# "Cannot find metric(s) that match type"): on a new project no event has
# been sent yet. So the metrics the alerts and the dashboard use are declared
# here first. The exporter's own CreateMetricDescriptor later updates them
# (it adds the resource labels service_name…; labels are never removed), so
# Terraform ignores the fields it rewrites, and abandons rather than deletes
# a descriptor: deleting one deletes the metric's data.

locals {
  # Resource type of the points the services write (see above).
  app_metric_resource = "generic_task"

  # Window over which alert conditions and charts align (sum, average,
  # percentile) each time series.
  alert_window = "300s"

  # The instruments alerts.tf and dashboard.tf use, by OpenTelemetry name:
  # value type, unit and attributes as internal/metrics declares them.
  app_metrics = {
    "hookrun.events.accepted" = {
      value_type  = "INT64"
      unit        = "{event}"
      labels      = ["source"]
      description = "Events accepted, by source (api, topic)."
    }
    "hookrun.events.refused" = {
      value_type  = "INT64"
      unit        = "{event}"
      labels      = ["reason"]
      description = "POST /v1/events requests refused, by reason (the error status ingest answered)."
    }
    "hookrun.deliveries" = {
      value_type  = "INT64"
      unit        = "{delivery}"
      labels      = ["outcome"]
      description = "Delivery attempts by the delivery's outcome: succeeded, retrying, dead."
    }
    "hookrun.attempts" = {
      value_type  = "INT64"
      unit        = "{attempt}"
      labels      = ["status_class"]
      description = "Delivery attempts by the receiver's status class (2xx, 3xx, 4xx, 5xx, error)."
    }
    "hookrun.attempt.duration" = {
      value_type  = "DISTRIBUTION"
      unit        = "s"
      labels      = []
      description = "How long a delivery attempt took, to the response or the error."
    }
    "hookrun.delivery.latency" = {
      value_type  = "DISTRIBUTION"
      unit        = "s"
      labels      = []
      description = "From the event's acceptance to the attempt that succeeded."
    }
    "hookrun.dependency.errors" = {
      value_type  = "INT64"
      unit        = "{error}"
      labels      = ["dependency"]
      description = "Failed calls to a Google Cloud service, by dependency."
    }
  }

  # metric_filter[name]: the filter that selects an instrument's points.
  # Add ` AND metric.labels.<label> = "<value>"` to narrow it.
  metric_filter = {
    for name, m in local.app_metrics :
    name => "metric.type = \"${google_monitoring_metric_descriptor.app[name].type}\" AND resource.type = \"${local.app_metric_resource}\""
  }

  # Google's own metrics of the resources infra/ creates.
  dead_letter_topic_filter   = "metric.type = \"pubsub.googleapis.com/topic/send_message_operation_count\" AND resource.type = \"pubsub_topic\" AND resource.labels.topic_id = \"${google_pubsub_topic.dead_letters.name}\""
  undeliverable_topic_filter = "metric.type = \"pubsub.googleapis.com/topic/send_message_operation_count\" AND resource.type = \"pubsub_topic\" AND resource.labels.topic_id = \"${google_pubsub_topic.events_dead_letter.name}\""
  events_backlog_filter      = "metric.type = \"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.events_dispatcher.name}\""
  ingest_5xx_filter          = "metric.type = \"run.googleapis.com/request_count\" AND resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${google_cloud_run_v2_service.ingest.name}\" AND metric.labels.response_code_class = \"5xx\""
  # Every hookrun service's 5xx (the dispatcher's are pushes and tasks it
  # refused, which Pub/Sub and Cloud Tasks retry).
  run_5xx_filter = "metric.type = \"run.googleapis.com/request_count\" AND resource.type = \"cloud_run_revision\" AND resource.labels.service_name = starts_with(\"hookrun-\") AND metric.labels.response_code_class = \"5xx\""
}

resource "google_monitoring_metric_descriptor" "app" {
  for_each     = local.app_metrics
  project      = var.project_id
  type         = "workload.googleapis.com/${each.key}"
  display_name = each.key
  description  = each.value.description
  metric_kind  = "CUMULATIVE"
  value_type   = each.value.value_type
  unit         = each.value.unit

  dynamic "labels" {
    for_each = each.value.labels
    content {
      key        = labels.value
      value_type = "STRING"
    }
  }

  # Never delete: that would delete the metric's data (see the top).
  deletion_policy = "ABANDON"

  lifecycle {
    ignore_changes = [labels, description, display_name, unit, metadata, launch_stage]
  }

  depends_on = [google_project_service.enabled]
}
