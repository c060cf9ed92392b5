"""Inference objects: inputs that the server turns into vectors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Union


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Document:
    text: str
    model: str
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def key(self) -> tuple:
        """Identity for de-duplication: same input, model and options."""
        return ("document", self.text, self.model.lower(), _canonical(self.options))


@dataclass(frozen=True)
class Image:
    image: Any  # URL, base64 or data URL string (any JSON is accepted on the wire)
    model: str
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def key(self) -> tuple:
        return ("image", _canonical(self.image), self.model.lower(), _canonical(self.options))


@dataclass(frozen=True)
class InferenceObject:
    object: Any
    model: str
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def key(self) -> tuple:
        return ("object", _canonical(self.object), self.model.lower(), _canonical(self.options))


InferenceInput = Union[Document, Image, InferenceObject]
INFERENCE_TYPES = (Document, Image, InferenceObject)
