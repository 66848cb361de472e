"""Prometheus metrics of ``leadsync worker`` and ``leadsync serve`` (``GET /metrics``).

Counted in the process that does the work: cycles by flow, mode and outcome, API requests and 429s by
API, the time from a webhook's arrival to the end of the cycle that applied it. Read from the store at
each scrape (so every process reports the same): the job queue's depth and the age of its oldest waiting
job (procrastinate's tables), and the open conflicts by flow.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from leadsync.engine import CycleResult
from leadsync.errors import StoreError
from leadsync.store import Store

__all__ = [
    "API_REQUESTS",
    "CONTENT_TYPE",
    "CYCLES",
    "RATE_LIMITED",
    "WEBHOOKS",
    "WEBHOOK_TO_SYNCED",
    "StoreCollector",
    "exposition",
    "record_cycle",
    "watch_store",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST

CYCLES = Counter(
    "leadsync_cycles", "Sync cycles run, by flow, mode and outcome.", ["flow", "mode", "outcome"]
)
API_REQUESTS = Counter("leadsync_api_requests", "Requests sent to each API.", ["api"])
RATE_LIMITED = Counter("leadsync_api_rate_limited", "429 answers received from each API.", ["api"])
WEBHOOKS = Counter("leadsync_webhooks", "Verified webhook deliveries, by API.", ["api"])
WEBHOOK_TO_SYNCED = Histogram(
    "leadsync_webhook_to_synced_seconds",
    "From a webhook's arrival to the end of the cycle that applied it.",
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
)


def record_cycle(flow: str, result: CycleResult) -> None:
    """Count one finished cycle and its requests."""
    outcome = "errors" if result.outcome.errors else "ok"
    CYCLES.labels(flow=flow, mode=str(result.mode), outcome=outcome).inc()
    for api, kinds in result.api_calls.items():
        API_REQUESTS.labels(api=api).inc(sum(kinds.values()))
    for api, n in result.rate_limited.items():
        RATE_LIMITED.labels(api=api).inc(n)


class StoreCollector(Collector):
    """The queue and the open conflicts, read from the store at each scrape."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The gauges (none when the store can't be read: a scrape never fails for it)."""
        try:
            stats = self.store.queue_stats()
            conflicts = self.store.open_conflict_counts()
        except StoreError:
            return
        if stats is not None:
            depth = GaugeMetricFamily("leadsync_jobs", "Jobs in the queue, by status.", labels=["status"])
            depth.add_metric(["waiting"], stats.waiting)
            depth.add_metric(["running"], stats.running)
            depth.add_metric(["failed"], stats.failed)
            yield depth
            yield GaugeMetricFamily(
                "leadsync_job_oldest_waiting_seconds",
                "Age of the oldest waiting job.",
                value=stats.oldest_waiting,
            )
            yield GaugeMetricFamily("leadsync_workers", "Workers alive (by heartbeat).", value=stats.workers)
        open_ = GaugeMetricFamily("leadsync_conflicts_open", "Open conflicts, by flow.", labels=["flow"])
        for flow, n in sorted(conflicts.items()):
            open_.add_metric([flow], n)
        yield open_


_watched: list[StoreCollector] = []


def watch_store(store: Store) -> None:
    """Report ``store``'s queue and conflicts in this process's metrics (once per process)."""
    if _watched:
        _watched[0].store = store
        return
    collector = StoreCollector(store)
    REGISTRY.register(collector)
    _watched.append(collector)


def exposition() -> bytes:
    """Every metric of this process in Prometheus' text format."""
    return generate_latest(REGISTRY)
