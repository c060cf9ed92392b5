"""Build ONNX graphs for CLIP's text and vision towers from Hugging Face CLIP weights
(`text_model.*`, `vision_model.*`, `text_projection`, `visual_projection`).

Text: input_ids [batch, seq] (+ attention_mask) -> text_embeds [batch, projection_dim], pooled
at the end-of-text token (the largest id). Vision: pixel_values [batch, 3, size, size] ->
image_embeds. Both are L2-normalised outside the graph, so the towers share one space.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto

from vecinfer.inference.onnx import safetensors
from vecinfer.inference.onnx.graph import GraphBuilder


def _encoder(g: GraphBuilder, x: str, w: dict, prefix: str, layers: int, heads: int, eps: float, mask: str | None) -> str:
    """Pre-LayerNorm transformer layers with quick-GELU MLPs, as in CLIP."""
    for i in range(layers):
        p = f"{prefix}.encoder.layers.{i}."
        h = g.layer_norm(x, w[p + "layer_norm1.weight"], w[p + "layer_norm1.bias"], eps)
        attn = g.attention(h, {
            "q_w": w[p + "self_attn.q_proj.weight"], "q_b": w[p + "self_attn.q_proj.bias"],
            "k_w": w[p + "self_attn.k_proj.weight"], "k_b": w[p + "self_attn.k_proj.bias"],
            "v_w": w[p + "self_attn.v_proj.weight"], "v_b": w[p + "self_attn.v_proj.bias"],
            "o_w": w[p + "self_attn.out_proj.weight"], "o_b": w[p + "self_attn.out_proj.bias"],
        }, heads, mask)
        x = g.op("Add", x, attn)
        h = g.layer_norm(x, w[p + "layer_norm2.weight"], w[p + "layer_norm2.bias"], eps)
        h = g.quick_gelu(g.linear(h, w[p + "mlp.fc1.weight"], w[p + "mlp.fc1.bias"]))
        x = g.op("Add", x, g.linear(h, w[p + "mlp.fc2.weight"], w[p + "mlp.fc2.bias"]))
    return x


def build_text(w: dict[str, np.ndarray], config: dict) -> onnx.ModelProto:
    tc = config["text_config"]
    eps = float(tc.get("layer_norm_eps", 1e-5))
    g = GraphBuilder("clip_text")
    ids = g.input("input_ids", TensorProto.INT64, ["batch", "seq"])
    attention_mask = g.input("attention_mask", TensorProto.INT64, ["batch", "seq"])
    tokens = g.op("Gather", g.const(w["text_model.embeddings.token_embedding.weight"], "tok_emb"), ids)
    positions = g.first_rows(g.const(w["text_model.embeddings.position_embedding.weight"], "pos_emb"), ids)
    x = g.op("Add", tokens, positions)
    # Causal mask (each token sees itself and earlier ones) plus the padding mask.
    window = w["text_model.embeddings.position_embedding.weight"].shape[0]
    causal_full = np.triu(np.full((window, window), np.finfo(np.float32).min, np.float32), k=1)
    seq = g.op("Slice", g.op("Shape", ids), g.const(np.array([1], np.int64)), g.const(np.array([2], np.int64)))
    seq2 = g.op("Concat", seq, seq, axis=0)
    causal = g.op("Slice", g.const(causal_full, "causal"), g.const(np.array([0, 0], np.int64)), seq2)
    mask = g.op("Add", g.padding_mask(attention_mask), causal)
    x = _encoder(g, x, w, "text_model", int(tc["num_hidden_layers"]), int(tc["num_attention_heads"]), eps, mask)
    x = g.layer_norm(x, w["text_model.final_layer_norm.weight"], w["text_model.final_layer_norm.bias"], eps)
    # Pool at the first end-of-text token: the largest id in each row.
    eot = g.op("ArgMax", ids, axis=1, keepdims=0, select_last_index=0)
    depth = g.op("Gather", g.op("Shape", ids), g.const(np.array(1, np.int64)), axis=0)
    one_hot = g.op("OneHot", eot, depth, g.const(np.array([0.0, 1.0], np.float32)), axis=-1)
    pooled = g.op("Squeeze", g.op("MatMul", g.op("Unsqueeze", one_hot, g.const(np.array([1], np.int64))), x),
                  g.const(np.array([1], np.int64)))
    embeds = g.linear(pooled, w["text_projection.weight"])
    g.output(embeds, "text_embeds", ["batch", int(w["text_projection.weight"].shape[0])])
    return g.model()


def build_vision(w: dict[str, np.ndarray], config: dict) -> onnx.ModelProto:
    vc = config["vision_config"]
    eps = float(vc.get("layer_norm_eps", 1e-5))
    patch = int(vc["patch_size"])
    size = int(vc["image_size"])
    hidden = int(vc["hidden_size"])
    g = GraphBuilder("clip_vision")
    pixels = g.input("pixel_values", TensorProto.FLOAT, ["batch", 3, size, size])
    patches = g.op("Conv", pixels, g.const(w["vision_model.embeddings.patch_embedding.weight"], "patch"),
                   kernel_shape=[patch, patch], strides=[patch, patch])
    patches = g.op("Transpose", g.op("Reshape", patches, g.const(np.array([0, hidden, -1], np.int64))), perm=[0, 2, 1])
    # Prepend the class embedding to every image's patch sequence.
    batch = g.op("Slice", g.op("Shape", pixels), g.const(np.array([0], np.int64)), g.const(np.array([1], np.int64)))
    cls_shape = g.op("Concat", batch, g.const(np.array([1, hidden], np.int64)), axis=0)
    cls = g.op("Expand", g.const(w["vision_model.embeddings.class_embedding"].reshape(1, 1, hidden), "cls"), cls_shape)
    x = g.op("Concat", cls, patches, axis=1)
    x = g.op("Add", x, g.const(w["vision_model.embeddings.position_embedding.weight"], "pos_emb"))
    x = g.layer_norm(x, w["vision_model.pre_layrnorm.weight"], w["vision_model.pre_layrnorm.bias"], eps)
    x = _encoder(g, x, w, "vision_model", int(vc["num_hidden_layers"]), int(vc["num_attention_heads"]), eps, None)
    first = g.op("Gather", x, g.const(np.array(0, np.int64)), axis=1)
    pooled = g.layer_norm(first, w["vision_model.post_layernorm.weight"], w["vision_model.post_layernorm.bias"], eps)
    embeds = g.linear(pooled, w["visual_projection.weight"])
    g.output(embeds, "image_embeds", ["batch", int(w["visual_projection.weight"].shape[0])])
    return g.model()


def build_from_folder(folder: Path, text_target: Path, vision_target: Path) -> None:
    """A Hugging Face CLIP snapshot (config.json + model.safetensors) -> two ONNX graphs."""
    config = json.loads((folder / "config.json").read_text())
    weights = safetensors.load(folder / "model.safetensors")
    for build, target in ((build_text, text_target), (build_vision, vision_target)):
        target.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(build(weights, config), str(target))
