"""How gateway upstream addresses become one gRPC target (README "Scaling out")."""

from __future__ import annotations

import pytest

from vecinfer.domain.errors import InvalidArgument
from vecinfer.upstream.grpc_client import parse_addresses, target_of


def test_a_single_name_keeps_dns_so_every_address_it_resolves_to_is_balanced():
    assert target_of(parse_addresses("qdrant-headless:6334")) == "dns:///qdrant-headless:6334"


def test_ip_lists_are_balanced_as_given():
    assert target_of(parse_addresses("10.0.0.1:6334, 10.0.0.2:6335")) == "ipv4:10.0.0.1:6334,10.0.0.2:6335"
    assert target_of(parse_addresses("[::1]:6334,[::2]:6334")) == "ipv6:[::1]:6334,[::2]:6334"


def test_a_list_of_names_is_resolved_once():
    assert target_of(parse_addresses("localhost:1,127.0.0.2:2")).startswith(("ipv4:127.0.0.1:1", "ipv6:[::1]:1"))


@pytest.mark.parametrize("text", ["", "qdrant", "qdrant:port", ":6334"])
def test_bad_addresses_are_refused(text):
    with pytest.raises(InvalidArgument):
        parse_addresses(text)


def test_one_channel_speaks_one_address_family():
    with pytest.raises(InvalidArgument, match="mixes IPv4 and IPv6"):
        target_of(parse_addresses("127.0.0.1:1,[::1]:2"))
