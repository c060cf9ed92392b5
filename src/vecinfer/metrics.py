"""Prometheus instruments, in one registry that `GET /metrics` exposes.

Requests are counted per door and operation by the service core; inference per model and
backend by the resolver; collection and optimizer state is read at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "vecinfer_requests", "Requests handled, by door (grpc, rest), operation and outcome (ok or the error kind)",
    ["door", "operation", "outcome"], registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "vecinfer_request_duration_seconds", "Time from a request's arrival in the service core to its answer",
    ["door", "operation"], buckets=_LATENCY_BUCKETS, registry=REGISTRY,
)
REJECTED = Counter(
    "vecinfer_rejected_requests", "Requests a door refused before they reached the service core (malformed input)",
    ["door", "status"], registry=REGISTRY,
)
GRPC_LOOP_CALLS = Counter(
    "vecinfer_grpc_loop_calls", "Work gRPC calls handed to the service's event loop: the embedding of a query's "
    "or write's inference objects, gateway forwarding, the other operations; the rest runs on the gRPC workers",
    registry=REGISTRY,
)
SEARCHES_SIDE_BY_SIDE = Counter(
    "vecinfer_searches_side_by_side", "Dense searches that searched their segments on several threads at once, "
    "as the only search running (VECINFER_SEARCH_THREADS); the others search theirs one after another",
    registry=REGISTRY,
)
INFERENCE_CALLS = Counter(
    "vecinfer_inference_calls", "Calls to a model backend (one per backend per request, after de-duplication)",
    ["backend", "outcome"], registry=REGISTRY,
)
INFERENCE_INPUTS = Counter(
    "vecinfer_inference_inputs", "Distinct inference objects embedded", ["backend"], registry=REGISTRY,
)
INFERENCE_TOKENS = Counter(
    "vecinfer_inference_tokens", "Tokens reported by a model", ["model", "backend"], registry=REGISTRY,
)
INFERENCE_SECONDS = Histogram(
    "vecinfer_inference_duration_seconds", "Time one backend took to embed one request's inputs",
    ["backend"], buckets=_LATENCY_BUCKETS, registry=REGISTRY,
)

BATCHES = Counter(
    "vecinfer_inference_batches", "Batches a model's micro-batcher started", ["batcher"], registry=REGISTRY,
)
BATCHES_ALONE = Counter(
    "vecinfer_inference_batches_alone", "Batches run on every core: no other batch was running or waiting",
    ["batcher"], registry=REGISTRY,
)
BATCH_INPUTS = Counter(
    "vecinfer_inference_batch_inputs", "Inputs in the batches a model's micro-batcher started", ["batcher"],
    registry=REGISTRY,
)
DROPPED_INPUTS = Counter(
    "vecinfer_inference_dropped_inputs",
    "Queued inputs never run because their request was cancelled, timed out or failed", ["batcher"],
    registry=REGISTRY,
)
WAL_RECORDS = Counter(
    "vecinfer_wal_records", "Write-ahead log records appended (one per write request)", registry=REGISTRY,
)
WAL_SYNCS = Counter(
    "vecinfer_wal_syncs", "fsyncs of write-ahead logs: fewer than records when concurrent writers share one",
    registry=REGISTRY,
)


class StateCollector(Collector):
    """Gauges computed when scraped from a function that reads the current state:
    rows of (metric name, help, labels, value)."""

    def __init__(self, read: Callable[[], Iterable[tuple[str, str, dict[str, str], float]]]) -> None:
        self._read = read

    def collect(self) -> Iterable[Metric]:
        families: dict[str, GaugeMetricFamily] = {}
        for name, help_text, labels, value in self._read():
            family = families.get(name)
            if family is None:
                family = families[name] = GaugeMetricFamily(name, help_text, labels=list(labels))
            family.add_metric(list(labels.values()), value)
        return list(families.values())


def watch_state(read: Callable[[], Iterable[tuple[str, str, dict[str, str], float]]]) -> StateCollector:
    collector = StateCollector(read)
    REGISTRY.register(collector)
    return collector
