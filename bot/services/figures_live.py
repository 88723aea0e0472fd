"""What the running coach does, counted as it happens, for ``/metrics`` (Prometheus).

Counters live in this process; what the database knows (outbox depth, open requests) is
read when ``/metrics`` is scraped (``bot/web/metrics.py``). Labels are channel names,
event kinds and results only: never a chat, a learner or a text.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

EVENTS = Counter(
    "coach_events_handled",
    "Learner events handled by the coach service.",
    ["channel", "kind"],
    registry=REGISTRY,
)
HANDLING = Histogram(
    "coach_event_handling_seconds",
    "Time to handle one learner event, its transaction included.",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
BATCHES = Histogram(
    "coach_event_batch_size",
    "Learner events handled together in one transaction (they arrived while the one before "
    "was being written).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
    registry=REGISTRY,
)
SENDS = Counter(
    "coach_sends",
    "Outbox messages the sender tried to deliver, by what came of it.",
    ["channel", "result"],
    registry=REGISTRY,
)
FLOOD = Counter(
    "coach_flood_control",
    "Times a platform answered 429 (flood control, retry later).",
    ["channel"],
    registry=REGISTRY,
)
REMINDERS = Counter(
    "coach_reminders_sent",
    "Reminders written to the outbox by the reminder sweep.",
    ["channel"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "coach_outbox_depth",
    "Messages waiting in the outbox (pending or being sent), read at scrape time.",
    ["channel"],
    registry=REGISTRY,
)
OUTBOX_AGE = Gauge(
    "coach_outbox_oldest_age_seconds",
    "Age of the oldest message waiting in the outbox, read at scrape time.",
    registry=REGISTRY,
)
HANDOFFS_OPEN = Gauge(
    "coach_handoffs_open",
    "Requests for a person waiting for a volunteer or being helped, read at scrape time.",
    ["status"],
    registry=REGISTRY,
)


def event_handled(channel: str, kind: str, seconds: float) -> None:
    EVENTS.labels(channel, kind).inc()
    HANDLING.labels(channel).observe(seconds)


def batch_handled(events: int) -> None:
    BATCHES.observe(events)


def send_result(channel: str, result: str) -> None:
    """``result``: sent, flood_control, unreachable, moved, held, retry, failed."""
    SENDS.labels(channel, result).inc()
    if result == "flood_control":
        FLOOD.labels(channel).inc()


def reminder_sent(channel: str) -> None:
    REMINDERS.labels(channel).inc()
