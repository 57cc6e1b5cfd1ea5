# The hookrun dashboard (Cloud Monitoring → Dashboards → hookrun): the
# signals the alerts watch, and the ones to look at next when one fires.
# Charts select series with the filters of metrics.tf.

locals {
  # One line chart each: the series of filter, each aligned over
  # local.alert_window with aligner, then combined by reducer across
  # instances (per group_by label, if any); unit labels the y axis.
  dashboard_charts = [
    {
      title   = "Events accepted per second, by source"
      filter  = local.metric_filter["hookrun.events.accepted"]
      aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.label.source"], unit = "events/s"
    },
    {
      title   = "Events refused per second, by reason"
      filter  = local.metric_filter["hookrun.events.refused"]
      aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.label.reason"], unit = "requests/s"
    },
    {
      title   = "Deliveries per second, by outcome"
      filter  = local.metric_filter["hookrun.deliveries"]
      aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.label.outcome"], unit = "deliveries/s"
    },
    {
      title   = "Dead letters per second (hookrun.deliveries, outcome dead)"
      filter  = "${local.metric_filter["hookrun.deliveries"]} AND metric.labels.outcome = \"dead\""
      aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = [], unit = "deliveries/s"
    },
    {
      title   = "Attempts per second, by status class"
      filter  = local.metric_filter["hookrun.attempts"]
      aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.label.status_class"], unit = "attempts/s"
    },
    {
      title   = "Attempt duration p95"
      filter  = local.metric_filter["hookrun.attempt.duration"]
      aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_95", group_by = [], unit = "s"
    },
    {
      title   = "Accept-to-delivered latency p95"
      filter  = local.metric_filter["hookrun.delivery.latency"]
      aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_95", group_by = [], unit = "s"
    },
    {
      title   = "Messages to the dead-letters topic (per 5 min)"
      filter  = local.dead_letter_topic_filter
      aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group_by = [], unit = "messages"
    },
    {
      title   = "Messages Pub/Sub gave up pushing: events-dead-letter (per 5 min)"
      filter  = local.undeliverable_topic_filter
      aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group_by = [], unit = "messages"
    },
    {
      title   = "events-dispatcher: oldest unacknowledged message age"
      filter  = local.events_backlog_filter
      aligner = "ALIGN_MAX", reducer = "REDUCE_MAX", group_by = [], unit = "s"
    },
    {
      title   = "5xx responses per second, by service"
      filter  = local.run_5xx_filter
      aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["resource.label.service_name"], unit = "requests/s"
    },
    {
      title   = "Dependency errors per second, by dependency"
      filter  = local.metric_filter["hookrun.dependency.errors"]
      aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.label.dependency"], unit = "errors/s"
    },
  ]
}

resource "google_monitoring_dashboard" "hookrun" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "hookrun"
    gridLayout = {
      columns = "2"
      widgets = [
        for c in local.dashboard_charts : {
          title = c.title
          xyChart = {
            dataSets = [{
              plotType = "LINE"
              timeSeriesQuery = {
                timeSeriesFilter = {
                  filter = c.filter
                  aggregation = merge(
                    {
                      alignmentPeriod    = local.alert_window
                      perSeriesAligner   = c.aligner
                      crossSeriesReducer = c.reducer
                    },
                    length(c.group_by) > 0 ? { groupByFields = c.group_by } : {},
                  )
                }
              }
            }]
            yAxis = {
              label = c.unit
              scale = "LINEAR"
            }
          }
        }
      ]
    }
  })
}
