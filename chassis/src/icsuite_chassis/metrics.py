"""Prometheus metrics every service exposes at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("ic_http_requests_total", "HTTP requests answered",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("ic_http_request_duration_seconds", "Time to answer an HTTP request",
                         ["method", "route"],
                         buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
EVENTS_CONSUMED = Counter("ic_events_consumed_total", "Events consumed, by outcome",
                          ["consumer", "type", "outcome"])
EVENTS_PUBLISHED = Counter("ic_events_published_total", "Events published to Kafka", ["topic", "type"])
EVENTS_DEAD_LETTERED = Counter("ic_events_dead_lettered_total", "Messages sent to a dead-letter topic",
                               ["consumer", "topic", "reason"])
CONSUMER_LAG = Gauge("ic_consumer_lag", "Messages behind the end of the partition",
                     ["consumer", "topic", "partition"])
DEAD_LETTERS_PARKED = Counter("ic_dead_letters_parked_total",
                              "Dead-letter records kept in the database because the dead-letter topic refused them",
                              ["consumer", "topic"])
CONSUMER_WAITING = Gauge("ic_consumer_waiting", "1 while a consumer waits for an unreachable database or broker",
                         ["consumer"])
OUTBOX_PENDING = Gauge("ic_outbox_pending", "Outbox events found pending by the last sweep", ["collection"])
OUTBOX_PARKED = Counter("ic_outbox_parked_total", "Outbox entries parked after their last failed send",
                        ["collection", "reason"])
OUTBOX_PARKED_NOW = Gauge("ic_outbox_parked_entries", "Outbox entries in the parked collection at the last sweep")
HANDLE_LATENCY = Histogram("ic_event_handle_duration_seconds", "Time to store the effect of a batch",
                           ["consumer"], buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
RETENTION_PURGED = Counter("ic_retention_purged_total", "Records purged because their retention period passed",
                           ["kind"])
AUDIT_WRITTEN = Counter("ic_audit_entries_written_total", "Audit entries stored")
AUDIT_DROPPED = Counter("ic_audit_entries_dropped_total",
                        "Audit entries lost: the queue was full or the database refused them", ["reason"])
AUDIT_QUEUED = Gauge("ic_audit_queue_entries", "Audit entries waiting to be written")
AUDIT_PURGED = Counter("ic_audit_entries_purged_total", "Audit entries deleted after their retention period")
