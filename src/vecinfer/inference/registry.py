"""Model name -> backend: local catalogue by exact (case-insensitive) name."""

from __future__ import annotations

from vecinfer.domain.errors import InvalidArgument
from vecinfer.inference.backend import Backend


class Registry:
    def __init__(self):
        self._local: dict[str, Backend] = {}

    def add(self, backend: Backend, *aliases: str) -> None:
        for name in (backend.info.name, *aliases):
            self._local[name.lower()] = backend

    def models(self) -> list[Backend]:
        seen, out = set(), []
        for backend in self._local.values():
            if id(backend) not in seen:
                seen.add(id(backend))
                out.append(backend)
        return out

    def get(self, model: str) -> Backend:
        backend = self._local.get(model.lower())
        if backend is None:
            known = ", ".join(sorted(b.info.name for b in self.models())) or "none"
            raise InvalidArgument(f"Unknown model `{model}`: known models are {known}")
        return backend
