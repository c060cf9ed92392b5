"""Inference objects: inputs that the server turns into vectors.

Option keys ending in `-api-key` are credentials for external providers: they are kept in
`secrets`, apart from `options`, so that they never reach a repr, a log line, a cache key or
storage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Union

from vecinfer.domain.errors import InvalidArgument

SECRET_SUFFIX = "-api-key"
# Options that change how a vector is derived after computation, not what is computed.
DERIVATION_OPTIONS = ("mrl",)


def split_secrets(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    plain = {k: v for k, v in options.items() if not k.lower().endswith(SECRET_SUFFIX)}
    secrets = {k.lower(): str(v) for k, v in options.items() if k.lower().endswith(SECRET_SUFFIX)}
    for name, value in secrets.items():
        # A key goes into an HTTP header: control characters there would split the request.
        if not value.isprintable():
            raise InvalidArgument(f"options.{name} holds control characters: send the key as it was issued")
    return plain, secrets


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def computation_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options that decide what the model computes (without mrl)."""
    return {k: v for k, v in options.items() if k not in DERIVATION_OPTIONS}


@dataclass(frozen=True)
class _Inference:
    model: str
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    secrets: dict[str, str] = field(default_factory=dict, hash=False, compare=False, repr=False)

    def _input(self) -> str:
        raise NotImplementedError

    def key(self) -> tuple:
        """Identity for de-duplication: same input, model and options. Two objects that differ
        only in `mrl` share one computation."""
        return (type(self).__name__, self._input(), self.model.lower(), _canonical(computation_options(self.options)))


@dataclass(frozen=True)
class Document(_Inference):
    text: str = ""

    def _input(self) -> str:
        return self.text


@dataclass(frozen=True)
class Image(_Inference):
    image: Any = None  # URL, base64 or data URL string (any JSON is accepted on the wire)

    def _input(self) -> str:
        return _canonical(self.image)


@dataclass(frozen=True)
class InferenceObject(_Inference):
    object: Any = None

    def _input(self) -> str:
        return _canonical(self.object)


InferenceInput = Union[Document, Image, InferenceObject]
INFERENCE_TYPES = (Document, Image, InferenceObject)
