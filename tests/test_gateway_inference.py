"""The BM25 and local-model inference tests again, through a gateway (`--upstream`) in front of
an embedded vecinfer: the gateway resolves every Document, the upstream stores and searches,
and the same assertions hold (usage included). `shared_server` here is the gateway."""

from __future__ import annotations

import pytest

from conftest import gateway_in_front
from test_bm25 import *  # noqa: F403
from test_local_text_models import *  # noqa: F403


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, clip_models):
    with gateway_in_front(tmp_path_factory.mktemp("gateway"), clip_models.models_dir) as (gateway, _):
        yield gateway
