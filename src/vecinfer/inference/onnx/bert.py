"""Build an ONNX graph for a BERT encoder (e.g. all-MiniLM-L6-v2) from its safetensors
weights, so that serving needs neither PyTorch nor a model hub.

Inputs input_ids, attention_mask, token_type_ids (int64 [batch, seq]); output
last_hidden_state [batch, seq, hidden]. Pooling and normalisation happen outside the graph.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto

from vecinfer.inference.onnx import safetensors
from vecinfer.inference.onnx.graph import MS_DOMAIN, GraphBuilder

# Part of the cache key of built graphs: bump when the graph this module builds changes.
GRAPH_VERSION = 2
# The same for build_fused (part of the int8 variant's key).
FUSED_GRAPH_VERSION = 1


def _strip_prefix(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # Checkpoints saved from BertForX carry a "bert." prefix; BertModel ones do not.
    if any(k.startswith("bert.") for k in weights):
        return {k[5:]: v for k, v in weights.items() if k.startswith("bert.")}
    return weights


def _embeddings(g: GraphBuilder, w: dict[str, np.ndarray], eps: float) -> tuple[str, str]:
    """The three inputs and the embedding layer: (hidden states, the attention_mask input)."""
    ids = g.input("input_ids", TensorProto.INT64, ["batch", "seq"])
    mask = g.input("attention_mask", TensorProto.INT64, ["batch", "seq"])
    types = g.input("token_type_ids", TensorProto.INT64, ["batch", "seq"])
    words = g.op("Gather", g.const(w["embeddings.word_embeddings.weight"], "word_emb"), ids)
    kinds = g.op("Gather", g.const(w["embeddings.token_type_embeddings.weight"], "type_emb"), types)
    positions = g.first_rows(g.const(w["embeddings.position_embeddings.weight"], "pos_emb"), ids)
    x = g.op("Add", g.op("Add", words, kinds), positions)
    return g.layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps), mask


def build(weights: dict[str, np.ndarray], config: dict) -> onnx.ModelProto:
    w = _strip_prefix(weights)
    eps = float(config.get("layer_norm_eps", 1e-12))
    heads = int(config["num_attention_heads"])
    g = GraphBuilder("bert")
    x, mask = _embeddings(g, w, eps)
    additive_mask = g.padding_mask(mask)

    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}."
        attn = g.attention(x, {
            "q_w": w[p + "attention.self.query.weight"], "q_b": w[p + "attention.self.query.bias"],
            "k_w": w[p + "attention.self.key.weight"], "k_b": w[p + "attention.self.key.bias"],
            "v_w": w[p + "attention.self.value.weight"], "v_b": w[p + "attention.self.value.bias"],
            "o_w": w[p + "attention.output.dense.weight"], "o_b": w[p + "attention.output.dense.bias"],
        }, heads, additive_mask)
        x = g.layer_norm(g.op("Add", attn, x), w[p + "attention.output.LayerNorm.weight"],
                         w[p + "attention.output.LayerNorm.bias"], eps)
        inner = g.gelu(g.linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]))
        out = g.linear(inner, w[p + "output.dense.weight"], w[p + "output.dense.bias"])
        x = g.layer_norm(g.op("Add", out, x), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)

    g.output(x, "last_hidden_state", ["batch", "seq", int(config["hidden_size"])])
    return g.model()


def build_fused(weights: dict[str, np.ndarray], config: dict) -> onnx.ModelProto:
    """The same encoder with onnxruntime's fused CPU operators where they measured faster
    (MultiHeadAttention with the padding mask and the Q/K/V bias, BiasGelu) and one matmul for
    Q, K and V. As fp32 it runs about as fast as `build`'s graph; it is the base of the int8
    variant, where the unfused graph's elementwise passes over the activations (transposes,
    mask, softmax and GELU pieces, bias adds) would eat much of what int8 matmuls save.

    Every weight matmul is named `layer{i}.{qkv|o|ffn1|ffn2}`: the int8 build picks its sites by
    name."""
    w = _strip_prefix(weights)
    eps = float(config.get("layer_norm_eps", 1e-12))
    heads = int(config["num_attention_heads"])
    hidden = int(config["hidden_size"])
    g = GraphBuilder("bert_fused")
    x, mask = _embeddings(g, w, eps)
    key_padding = g.op("Cast", mask, to=TensorProto.INT32)

    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}."
        a = p + "attention.self."
        qkv_w = np.concatenate([w[a + "query.weight"], w[a + "key.weight"], w[a + "value.weight"]])
        qkv_b = np.concatenate([w[a + "query.bias"], w[a + "key.bias"], w[a + "value.bias"]]).astype(np.float32)
        qkv = g.linear(x, qkv_w, name=f"layer{i}.qkv")
        q, k, v = g.ops("Split", qkv, g.const(np.array([hidden] * 3, np.int64), "split"), outputs=3, axis=-1)
        context = g.op("MultiHeadAttention", q, k, v, g.const(qkv_b, "qkv_b"), key_padding, domain=MS_DOMAIN, num_heads=heads)
        attn = g.linear(context, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"], name=f"layer{i}.o")
        # Add + LayerNormalization, not onnxruntime's SkipLayerNormalization: its kernel measured
        # slower here (1.3 s against 0.7 s in a 10 s int8 run).
        x = g.layer_norm(g.op("Add", attn, x), w[p + "attention.output.LayerNorm.weight"],
                         w[p + "attention.output.LayerNorm.bias"], eps)
        inner = g.linear(x, w[p + "intermediate.dense.weight"], name=f"layer{i}.ffn1")
        inner = g.op("BiasGelu", inner, g.const(w[p + "intermediate.dense.bias"].astype(np.float32), "b"), domain=MS_DOMAIN)
        out = g.linear(inner, w[p + "output.dense.weight"], w[p + "output.dense.bias"], name=f"layer{i}.ffn2")
        x = g.layer_norm(g.op("Add", out, x), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)

    g.output(x, "last_hidden_state", ["batch", "seq", hidden])
    return g.model()


def build_from_folder(folder: Path, target: Path) -> Path:
    """folder holds model.safetensors + config.json (a Hugging Face snapshot)."""
    config = json.loads((folder / "config.json").read_text())
    if config.get("model_type") not in ("bert", None):
        raise ValueError(f"{folder}: model_type {config.get('model_type')!r} is not a BERT encoder")
    model = build(safetensors.load(folder / "model.safetensors"), config)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A unique name per process: servers starting together may build the same file.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    onnx.save(model, str(tmp))
    tmp.replace(target)
    return target
