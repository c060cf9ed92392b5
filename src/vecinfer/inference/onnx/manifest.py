"""The manifest that describes one ONNX model folder (`vecinfer-model.json`).

    {
      "name": "sentence-transformers/all-minilm-l6-v2",   # what clients put in `model`
      "kind": "text" | "image",                           # what the model takes
      "dimension": 384,
      "onnx": "model.onnx",                               # relative to the folder
      "tokenizer": "tokenizer.json",                      # text models
      "output": "last_hidden_state",                      # graph output to read
      "pooling": "mean" | "cls" | "none",                 # "none": the output is the embedding
      "normalize": true,
      "max_tokens": 256,                                  # longer text is truncated
      "pad_to": null,                                     # fixed padding (CLIP text: 77)
      "query_prefix": "", "document_prefix": "",          # e.g. "query: " for e5 models
      "image_size": 224, "image_mean": [...], "image_std": [...]   # image models
    }
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST_FILE = "vecinfer-model.json"

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class Manifest:
    name: str
    kind: str
    dimension: int
    onnx: Path
    tokenizer: Path | None = None
    output: str | None = None
    pooling: str = "mean"
    normalize: bool = True
    max_tokens: int = 256
    pad_to: int | None = None
    query_prefix: str = ""
    document_prefix: str = ""
    image_size: int = 224
    image_mean: tuple[float, ...] = CLIP_MEAN
    image_std: tuple[float, ...] = CLIP_STD
    source: str = ""
    aliases: tuple[str, ...] = field(default_factory=tuple)


def read(folder: Path) -> Manifest:
    path = folder / MANIFEST_FILE
    data = json.loads(path.read_text())
    missing = {"name", "kind", "dimension", "onnx"} - set(data)
    if missing:
        raise ValueError(f"{path}: missing {sorted(missing)}")
    if data["kind"] not in ("text", "image"):
        raise ValueError(f"{path}: kind must be 'text' or 'image', got {data['kind']!r}")
    if data["kind"] == "text" and not data.get("tokenizer"):
        raise ValueError(f"{path}: a text model needs `tokenizer`")
    if data.get("pooling", "mean") not in ("mean", "cls", "none"):
        raise ValueError(f"{path}: pooling must be mean, cls or none")
    return Manifest(
        name=data["name"], kind=data["kind"], dimension=int(data["dimension"]), onnx=folder / data["onnx"],
        tokenizer=folder / data["tokenizer"] if data.get("tokenizer") else None, output=data.get("output"),
        pooling=data.get("pooling", "mean"), normalize=bool(data.get("normalize", True)),
        max_tokens=int(data.get("max_tokens", 256)), pad_to=data.get("pad_to"),
        query_prefix=data.get("query_prefix", ""), document_prefix=data.get("document_prefix", ""),
        image_size=int(data.get("image_size", 224)), image_mean=tuple(data.get("image_mean", CLIP_MEAN)),
        image_std=tuple(data.get("image_std", CLIP_STD)), source=str(folder), aliases=tuple(data.get("aliases", ())),
    )


def write(folder: Path, manifest: dict) -> Path:
    path = folder / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path
