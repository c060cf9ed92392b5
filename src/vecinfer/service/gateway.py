"""The gateway mode: no storage of its own; inference objects resolved here (dedup, batching,
MRL, providers, usage), everything forwarded to the upstream cluster."""

from __future__ import annotations

from vecinfer.config import Settings
from vecinfer.domain.errors import Unimplemented
from vecinfer.domain.results import Answer
from vecinfer.inference.backend import Purpose
from vecinfer.inference.resolver import Slot
from vecinfer.service.context import RequestContext
from vecinfer.service.core import ModelService
from vecinfer.service.running import NO_USAGE, answer, within_deadline
from vecinfer.upstream.grpc_client import Metadata, UpstreamGrpc
from vecinfer.upstream.rest_client import HttpAnswer, UpstreamHttp


class GatewayService(ModelService):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.upstream = UpstreamGrpc(settings.upstream, settings.upstream_tls, settings.upstream_ca,
                                     settings.grpc_max_message_mb << 20)
        self.upstream_http = (UpstreamHttp(settings.upstream_http, settings.upstream_tls, settings.upstream_ca)
                              if settings.upstream_http else None)

    async def resolve(self, ctx: RequestContext, operation: str, slots: list[Slot], purpose: Purpose) -> Answer[None]:
        """Embed every inference object of a request in place, within the client's deadline."""
        async def work() -> tuple[None, dict[str, int]]:
            if not slots:
                return None, NO_USAGE
            usage = await within_deadline(ctx, f"inference for {operation}",
                                          self.resolver.resolve(slots, purpose, ctx.inference()))
            return None, usage

        return await answer(ctx, f"gateway_{operation}", work, bounded=False)

    async def forward_grpc(self, ctx: RequestContext, method: str, body: bytes, metadata: Metadata) -> bytes:
        async def work() -> tuple[bytes, dict[str, int]]:
            return await self.upstream.call(method, body, metadata, ctx.remaining()), NO_USAGE

        return (await answer(ctx, "forward", work, bounded=False)).result

    async def forward_http(self, ctx: RequestContext, method: str, path_qs: str, headers: list[tuple[str, str]],
                           body: bytes | None) -> HttpAnswer:
        upstream_http = self.upstream_http
        if upstream_http is None:
            raise Unimplemented("the REST door in gateway mode without --upstream-http (VECINFER_UPSTREAM_HTTP)")

        async def work() -> tuple[HttpAnswer, dict[str, int]]:
            return await upstream_http.request(method, path_qs, headers, body, ctx.remaining()), NO_USAGE

        return (await answer(ctx, "forward", work, bounded=False)).result

    def readiness(self) -> tuple[bool, str]:
        ready, text = super().readiness()
        if ready and not self.upstream.connected():
            return False, f"upstream {self.settings.upstream} is not reachable"
        return ready, text

    def describe(self) -> str:
        http = f", REST to {self.settings.upstream_http}" if self.settings.upstream_http else ""
        return f"gateway to {self.settings.upstream} (gRPC{http})"

    async def close(self) -> None:
        await self.upstream.close()
        if self.upstream_http is not None:
            await self.upstream_http.close()
        await super().close()
