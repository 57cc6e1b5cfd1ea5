# Alert policies: what an on-call engineer is told about. The README's
# Operate section has, for each, what it means and what to check first;
# thresholds and durations are variables (variables.tf, "Alerts").
#
# Conditions are filter-based thresholds (condition_threshold with
# aggregations), not PromQL or MQL: the provider checks their aligners,
# reducers and comparisons against the API's enums at validate and plan
# time, while a PromQL query is a string only the API reads, and names
# hookrun's dotted OpenTelemetry metrics through a mapping
# (workload_googleapis_com:hookrun_deliveries) that can silently match
# nothing. MQL is deprecated for new policies.

resource "google_monitoring_notification_channel" "email" {
  for_each     = toset(var.alert_emails)
  project      = var.project_id
  display_name = "hookrun alerts: ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
  depends_on = [google_project_service.enabled]
}

locals {
  alert_channels = concat(var.alert_notification_channels, [for c in google_monitoring_notification_channel.email : c.name])

  # Appended to each policy's documentation, which notifications carry.
  alert_runbook = "What it means and what to check first: the README's Operate section, Alerts."
}

resource "google_monitoring_alert_policy" "dead_letters" {
  project               = var.project_id
  display_name          = "hookrun: dead letters rising"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.alert_channels

  documentation {
    mime_type = "text/markdown"
    content   = "Deliveries became dead letters (every attempt failed) faster than ${var.alert_dead_letters_per_minute} a minute for ${var.alert_dead_letters_for_minutes} minutes. ${local.alert_runbook}"
  }

  conditions {
    display_name = "hookrun.deliveries{outcome=dead} per minute > ${var.alert_dead_letters_per_minute}"
    condition_threshold {
      filter          = "${local.metric_filter["hookrun.deliveries"]} AND metric.labels.outcome = \"dead\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_dead_letters_per_minute / 60
      duration        = "${var.alert_dead_letters_for_minutes * 60}s"
      aggregations {
        alignment_period     = local.alert_window
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }
}

resource "google_monitoring_alert_policy" "dead_letter_topic" {
  project               = var.project_id
  display_name          = "hookrun: dead-letters topic receiving messages"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.alert_channels

  documentation {
    mime_type = "text/markdown"
    content   = "The dispatcher announced more than ${var.alert_dead_letter_topic_messages} dead letters on the topic ${google_pubsub_topic.dead_letters.name} in 5 minutes. ${local.alert_runbook}"
  }

  conditions {
    display_name = "messages published to ${google_pubsub_topic.dead_letters.name} > ${var.alert_dead_letter_topic_messages}"
    condition_threshold {
      filter          = local.dead_letter_topic_filter
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_dead_letter_topic_messages
      duration        = "${var.alert_dead_letter_topic_for_minutes * 60}s"
      aggregations {
        alignment_period     = local.alert_window
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }
}

resource "google_monitoring_alert_policy" "undeliverable_messages" {
  project               = var.project_id
  display_name          = "hookrun: messages Pub/Sub could not push to the dispatcher"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.alert_channels

  documentation {
    mime_type = "text/markdown"
    content   = "Pub/Sub moved more than ${var.alert_undeliverable_messages} messages of the events topic to ${google_pubsub_topic.events_dead_letter.name} in 5 minutes, after ${var.push_max_delivery_attempts} failed pushes each: their events were not fanned out. ${local.alert_runbook}"
  }

  conditions {
    display_name = "messages published to ${google_pubsub_topic.events_dead_letter.name} > ${var.alert_undeliverable_messages}"
    condition_threshold {
      filter          = local.undeliverable_topic_filter
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_undeliverable_messages
      duration        = "${var.alert_undeliverable_messages_for_minutes * 60}s"
      aggregations {
        alignment_period     = local.alert_window
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }
}

resource "google_monitoring_alert_policy" "success_rate" {
  project               = var.project_id
  display_name          = "hookrun: delivery success rate low"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.alert_channels

  documentation {
    mime_type = "text/markdown"
    content   = "Fewer than ${var.alert_success_rate_min * 100}% of delivery outcomes were succeeded for ${var.alert_success_rate_for_minutes} minutes (the rest are retrying or dead). ${local.alert_runbook}"
  }

  # succeeded / all outcomes. Unlike the API's success_rate (succeeded /
  # (succeeded + dead), settled deliveries only), retrying counts: a dead
  # letter settles up to days after the failures that make it.
  conditions {
    display_name = "hookrun.deliveries succeeded / all < ${var.alert_success_rate_min}"
    condition_threshold {
      filter             = "${local.metric_filter["hookrun.deliveries"]} AND metric.labels.outcome = \"succeeded\""
      denominator_filter = local.metric_filter["hookrun.deliveries"]
      comparison         = "COMPARISON_LT"
      threshold_value    = var.alert_success_rate_min
      duration           = "${var.alert_success_rate_for_minutes * 60}s"
      aggregations {
        alignment_period     = local.alert_window
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = local.alert_window
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }
}

resource "google_monitoring_alert_policy" "delivery_latency" {
  project               = var.project_id
  display_name          = "hookrun: accept-to-delivered latency high"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.alert_channels

  documentation {
    mime_type = "text/markdown"
    content   = "The 95th percentile of the time from accepting an event to delivering it exceeded ${var.alert_delivery_latency_p95_seconds} s for ${var.alert_delivery_latency_for_minutes} minutes. ${local.alert_runbook}"
  }

  conditions {
    display_name = "hookrun.delivery.latency p95 > ${var.alert_delivery_latency_p95_seconds} s"
    condition_threshold {
      filter          = local.metric_filter["hookrun.delivery.latency"]
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_delivery_latency_p95_seconds
      duration        = "${var.alert_delivery_latency_for_minutes * 60}s"
      # The delta of each instance's histogram over the window, merged
      # across instances, then its 95th percentile.
      aggregations {
        alignment_period     = local.alert_window
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_95"
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }
}

resource "google_monitoring_alert_policy" "events_backlog" {
  project               = var.project_id
  display_name          = "hookrun: events waiting for the dispatcher"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.alert_channels

  documentation {
    mime_type = "text/markdown"
    content   = "The oldest message of the subscription ${google_pubsub_subscription.events_dispatcher.name} not yet acknowledged by the dispatcher was older than ${var.alert_backlog_age_seconds} s for ${var.alert_backlog_for_minutes} minutes. ${local.alert_runbook}"
  }

  conditions {
    display_name = "${google_pubsub_subscription.events_dispatcher.name} oldest unacked message age > ${var.alert_backlog_age_seconds} s"
    condition_threshold {
      filter          = local.events_backlog_filter
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_backlog_age_seconds
      duration        = "${var.alert_backlog_for_minutes * 60}s"
      aggregations {
        alignment_period     = local.alert_window
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_MAX"
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }
}

resource "google_monitoring_alert_policy" "ingest_5xx" {
  project               = var.project_id
  display_name          = "hookrun: ingest answering 5xx"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.alert_channels

  documentation {
    mime_type = "text/markdown"
    content   = "${google_cloud_run_v2_service.ingest.name} answered 5xx more than ${var.alert_ingest_5xx_per_minute} times a minute for ${var.alert_ingest_5xx_for_minutes} minutes: producers' events are being refused. ${local.alert_runbook}"
  }

  conditions {
    display_name = "${google_cloud_run_v2_service.ingest.name} 5xx per minute > ${var.alert_ingest_5xx_per_minute}"
    condition_threshold {
      filter          = local.ingest_5xx_filter
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_ingest_5xx_per_minute / 60
      duration        = "${var.alert_ingest_5xx_for_minutes * 60}s"
      aggregations {
        alignment_period     = local.alert_window
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }
}
