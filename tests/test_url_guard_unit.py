"""The resolver that keeps image fetches off private networks, on its own."""

import asyncio

import pytest

from vecinfer.inference.http import PublicOnlyResolver, RefusedAddress, is_public_address


@pytest.mark.parametrize("address, public", [
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("::1", False), ("fe80::1", False), ("fd00::1", False),
    ("::ffff:127.0.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
    ("8.8.8.8", True), ("2001:4860:4860::8888", True),
])
def test_public_addresses(address, public):
    assert is_public_address(address) is public


def test_a_name_that_resolves_to_loopback_is_refused():
    async def resolve():
        resolver = PublicOnlyResolver()
        try:
            await resolver.resolve("localhost", 80)
        finally:
            await resolver.close()

    with pytest.raises(RefusedAddress):
        asyncio.run(resolve())
