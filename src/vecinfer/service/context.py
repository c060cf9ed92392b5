"""Who is asking and how long they wait: what a door knows about a request besides its body."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from vecinfer.inference.backend import InferenceContext


@dataclass(frozen=True)
class RequestContext:
    door: str  # "grpc" or "rest": a label for metrics
    # Provider keys sent beside the body (gRPC metadata or HTTP headers named `*-api-key`).
    credentials: dict[str, str] = field(default_factory=dict, repr=False)
    deadline: float | None = None  # time.monotonic() value
    # The request's own `timeout` in seconds (REST parameter, gRPC field), as the client sent it.
    timeout: int | None = None

    @staticmethod
    def within(door: str, credentials: dict[str, str], seconds: float | None,
               timeout: int | None = None) -> RequestContext:
        deadline = time.monotonic() + seconds if seconds is not None else None
        return RequestContext(door, credentials, deadline, timeout)

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def inference(self) -> InferenceContext:
        return InferenceContext(self.credentials, self.deadline)


def credentials_from(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Provider keys among request headers or metadata: names ending in `-api-key`, except the
    server's own `api-key`."""
    return {key.lower(): value for key, value in pairs if key.lower().endswith("-api-key")}
