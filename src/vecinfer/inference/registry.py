"""Model name -> backend: the local catalogue by exact (case-insensitive) name, then external
providers by prefix (`openai/...`)."""

from __future__ import annotations

from vecinfer.domain.errors import InvalidArgument, clip
from vecinfer.inference.backend import Backend


class Registry:
    def __init__(self) -> None:
        self._local: dict[str, Backend] = {}
        self._providers: dict[str, Backend] = {}

    def add(self, backend: Backend, *aliases: str) -> None:
        for name in (backend.info.name, *aliases):
            self._local[name.lower()] = backend

    def add_provider(self, prefix: str, backend: Backend) -> None:
        self._providers[prefix.lower()] = backend

    def models(self) -> list[Backend]:
        seen, out = set(), []
        for backend in [*self._local.values(), *self._providers.values()]:
            if id(backend) not in seen:
                seen.add(id(backend))
                out.append(backend)
        return out

    def get(self, model: str) -> Backend:
        backend = self._local.get(model.lower())
        if backend is not None:
            return backend
        prefix = model.split("/", 1)[0].lower() if "/" in model else ""
        if prefix in self._providers:
            return self._providers[prefix]
        local = sorted({b.info.name for b in self._local.values()})
        remote = [f"{p}/<model>" for p in sorted(self._providers)]
        raise InvalidArgument(f"Unknown model `{clip(model)}`: known models are {', '.join(local + remote) or 'none'}")
