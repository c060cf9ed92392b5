"""Prepare a vecinfer models folder from a Hugging Face snapshot you already have on disk.

    python scripts/prepare_models.py SNAPSHOT MODELS_DIR --name NAME [--query-prefix ...]

SNAPSHOT is a downloaded model repository folder (e.g. from `huggingface-cli download`):
- a sentence-transformers / BERT-style text model (config.json with model_type bert,
  model.safetensors, tokenizer.json; pooling and window read from 1_Pooling/config.json and
  sentence_bert_config.json): one folder NAME-with-slashes-replaced/ with model.onnx;
- a CLIP model (config.json with model_type clip, model.safetensors, tokenizer.json): two
  folders, NAME-text/ and NAME-vision/, served as models NAME-text and NAME-vision;
- a folder that already holds an ONNX graph (model.onnx or onnx/model.onnx): copied as is,
  with --kind, --dimension and --output telling how to serve it.

Each prepared folder gets a vecinfer-model.json manifest; start the server with
`--models-dir MODELS_DIR` (or VECINFER_MODELS_DIR). No PyTorch is needed.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from vecinfer.inference.onnx import bert, clip
from vecinfer.inference.onnx.manifest import write as write_manifest


def _folder_name(name: str) -> str:
    return name.replace("/", "--")


def prepare_text(snapshot: Path, out: Path, name: str, query_prefix: str, document_prefix: str) -> Path:
    target = out / _folder_name(name)
    target.mkdir(parents=True, exist_ok=True)
    bert.build_from_folder(snapshot, target / "model.onnx")
    shutil.copy(snapshot / "tokenizer.json", target / "tokenizer.json")
    config = json.loads((snapshot / "config.json").read_text())
    pooling_file = snapshot / "1_Pooling" / "config.json"
    pooling = "mean"
    if pooling_file.exists() and json.loads(pooling_file.read_text()).get("pooling_mode_cls_token"):
        pooling = "cls"
    window = config.get("max_position_embeddings", 512)
    st_config = snapshot / "sentence_bert_config.json"
    if st_config.exists():
        window = json.loads(st_config.read_text()).get("max_seq_length", window)
    modules = snapshot / "modules.json"
    normalize = True
    if modules.exists():
        normalize = any(m.get("type", "").endswith("Normalize") for m in json.loads(modules.read_text()))
    write_manifest(target, {"name": name, "kind": "text", "dimension": int(config["hidden_size"]), "onnx": "model.onnx",
                            "tokenizer": "tokenizer.json", "output": "last_hidden_state", "pooling": pooling,
                            "normalize": normalize, "max_tokens": int(window),
                            "query_prefix": query_prefix, "document_prefix": document_prefix})
    return target


def prepare_clip(snapshot: Path, out: Path, name: str) -> list[Path]:
    config = json.loads((snapshot / "config.json").read_text())
    dim = int(config.get("projection_dim", 512))
    text, vision = out / _folder_name(f"{name}-text"), out / _folder_name(f"{name}-vision")
    clip.build_from_folder(snapshot, text / "model.onnx", vision / "model.onnx")
    shutil.copy(snapshot / "tokenizer.json", text / "tokenizer.json")
    window = int(config.get("text_config", {}).get("max_position_embeddings", 77))
    write_manifest(text, {"name": f"{name}-text", "kind": "text", "dimension": dim, "onnx": "model.onnx",
                          "tokenizer": "tokenizer.json", "output": "text_embeds", "pooling": "none",
                          "normalize": True, "max_tokens": window, "pad_to": window})
    size = int(config.get("vision_config", {}).get("image_size", 224))
    write_manifest(vision, {"name": f"{name}-vision", "kind": "image", "dimension": dim, "onnx": "model.onnx",
                            "output": "image_embeds", "normalize": True, "image_size": size})
    return [text, vision]


def prepare_onnx(snapshot: Path, out: Path, name: str, kind: str, dimension: int, output: str | None,
                 pooling: str, max_tokens: int) -> Path:
    graph = next((p for p in (snapshot / "model.onnx", snapshot / "onnx" / "model.onnx") if p.exists()), None)
    if graph is None:
        raise SystemExit(f"{snapshot}: no model.onnx or onnx/model.onnx")
    target = out / _folder_name(name)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(graph, target / "model.onnx")
    manifest = {"name": name, "kind": kind, "dimension": dimension, "onnx": "model.onnx", "normalize": True}
    if output:
        manifest["output"] = output
    if kind == "text":
        shutil.copy(snapshot / "tokenizer.json", target / "tokenizer.json")
        manifest.update({"tokenizer": "tokenizer.json", "pooling": pooling, "max_tokens": max_tokens})
    write_manifest(target, manifest)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("models_dir", type=Path)
    parser.add_argument("--name", required=True, help="the model name clients will send, e.g. intfloat/e5-small-v2")
    parser.add_argument("--query-prefix", default="")
    parser.add_argument("--document-prefix", default="")
    parser.add_argument("--kind", choices=["text", "image"], help="for ONNX snapshots")
    parser.add_argument("--dimension", type=int, help="for ONNX snapshots")
    parser.add_argument("--output", help="graph output to read, for ONNX snapshots")
    parser.add_argument("--pooling", default="none", choices=["mean", "cls", "none"], help="for ONNX text snapshots")
    parser.add_argument("--max-tokens", type=int, default=77, help="for ONNX text snapshots")
    args = parser.parse_args()
    config_path = args.snapshot / "config.json"
    model_type = json.loads(config_path.read_text()).get("model_type") if config_path.exists() else None
    if (args.snapshot / "model.safetensors").exists() and model_type == "clip":
        written = prepare_clip(args.snapshot, args.models_dir, args.name)
    elif (args.snapshot / "model.safetensors").exists() and model_type == "bert":
        written = [prepare_text(args.snapshot, args.models_dir, args.name, args.query_prefix, args.document_prefix)]
    else:
        if not (args.kind and args.dimension):
            raise SystemExit("not a BERT or CLIP safetensors snapshot: give --kind and --dimension to serve its ONNX graph")
        written = [prepare_onnx(args.snapshot, args.models_dir, args.name, args.kind, args.dimension, args.output,
                                args.pooling, args.max_tokens)]
    for folder in written:
        print(f"prepared {folder}")


if __name__ == "__main__":
    main()
