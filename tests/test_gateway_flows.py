"""The client-flow tests again (both doors), through a gateway (`--upstream`) in front of an
embedded vecinfer: the same assertions hold when everything is forwarded. The module's tests
are imported; `shared_server` here is the gateway, so every client they make talks to it."""

from __future__ import annotations

import pytest

from conftest import gateway_in_front
from test_client_flow import *  # noqa: F403


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, clip_models):
    with gateway_in_front(tmp_path_factory.mktemp("gateway"), clip_models.models_dir) as (gateway, _):
        yield gateway
