"""How the gRPC door's worker threads run an operation (service/running.answer_now): a
deadline already passed refuses the work; bounded work that overruns the deadline answers
DeadlineExceeded, as Qdrant answers a request over its `timeout`; writes, once applied, answer."""

from __future__ import annotations

import time

import pytest

from vecinfer.domain.errors import DeadlineExceeded
from vecinfer.service.context import RequestContext
from vecinfer.service.running import answer_now


def _slow() -> tuple[str, dict[str, int]]:
    time.sleep(0.2)
    return "done", {}


def test_a_passed_deadline_refuses_the_work():
    ran = []
    with pytest.raises(DeadlineExceeded, match="no time left"):
        answer_now(RequestContext.within("grpc", {}, 0.0), "query", lambda: (ran.append(1), {}))
    assert ran == []


def test_bounded_work_past_its_deadline_answers_deadline_exceeded():
    with pytest.raises(DeadlineExceeded, match="did not finish within the request's timeout"):
        answer_now(RequestContext.within("grpc", {}, 0.05, timeout=1), "query", _slow)


def test_a_write_past_its_deadline_still_answers_what_it_applied():
    answer = answer_now(RequestContext.within("grpc", {}, 0.05), "upsert", _slow, bounded=False)
    assert answer.result == "done" and answer.seconds >= 0.2


def test_work_within_its_deadline_answers():
    assert answer_now(RequestContext.within("grpc", {}, 5.0), "query", _slow).result == "done"
    assert answer_now(RequestContext.within("grpc", {}, None), "query", _slow).result == "done"
