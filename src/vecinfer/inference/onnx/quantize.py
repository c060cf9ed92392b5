"""int8 variants of BERT text encoders, built here with onnxruntime's quantization tools.

The recipe (each step measured on all-MiniLM-L6-v2, see BENCHMARKS.md "MiniLM int8"):

1. Start from the fused fp32 graph (`bert.build_fused`): in the plain graph, elementwise passes
   over the activations (attention transposes, mask and softmax, GELU pieces) take a large part
   of the int8 run time.
2. Weights: `onnxruntime.quantization.quantize_dynamic`, int8 with one scale per output column
   (one scale per tensor costs ~10 points of top-10 agreement).
3. Activations: quantize_dynamic gives each matmul input one scale for the whole batch, and
   BERT's LayerNorm outputs carry a few channels (99, 63, 223, ...) up to 15x wider than the
   rest, on a few tokens; every other value then gets 4-5 bits. So the graph it returns is
   rewritten to give every token its own scale (ReduceMax/ReduceMin, per-axis QuantizeLinear,
   MatMulIntegerToFloat with a [tokens, 1] scale), and at the sites that need it the few widest
   channels (found once on CALIBRATION) skip the int8 matmul: their weight rows are zeroed
   before quantization and their product is added back by a small fp32 matmul.

`Int8Settings.key()` is part of the cached file's name, so changing a setting (or this
module's BUILD_VERSION) builds a new graph.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import NodeProto, TensorProto, helper, numpy_helper
from tokenizers import Tokenizer

from vecinfer.inference.onnx import bert, safetensors
from vecinfer.inference.onnx.graph import MS_DOMAIN

# Part of the cache key: bump when what this module builds changes for the same settings.
BUILD_VERSION = 1

# Weight matmuls of `bert.build_fused`, by the last part of their node names.
SITES = ("qkv", "o", "ffn1", "ffn2")


@dataclass(frozen=True)
class Int8Settings:
    per_channel: bool = True  # one weight scale per output column, else one per matrix
    reduce_range: bool = False  # 7-bit weights: for CPUs without VNNI, costs accuracy here
    fused: bool = True  # start from bert.build_fused, else from bert.build
    per_token: bool = True  # one activation scale per token, else quantize_dynamic's one per tensor
    outlier_sites: tuple[str, ...] = SITES  # matmul inputs whose widest channels stay fp32
    outlier_channels: int = 4  # how many, per site

    def __post_init__(self) -> None:
        unknown = set(self.outlier_sites) - set(SITES)
        if unknown:
            raise ValueError(f"unknown outlier sites {sorted(unknown)} (sites: {', '.join(SITES)})")
        # Sites are found by node name (fused graph) and added back in the per-token rewrite.
        if self.outlier_sites and not (self.fused and self.per_token):
            raise ValueError("outlier_sites need fused=True and per_token=True")

    def key(self) -> str:
        text = f"b{BUILD_VERSION}-f{bert.FUSED_GRAPH_VERSION}-g{bert.GRAPH_VERSION}-{self!r}"
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def describe(self) -> str:
        parts = ["per-channel weights" if self.per_channel else "per-tensor weights"]
        if self.reduce_range:
            parts.append("reduce_range")
        parts.append("per-token activations" if self.per_token else "per-tensor activations")
        if self.outlier_sites:
            parts.append(f"{self.outlier_channels} fp32 outlier channels at {'+'.join(self.outlier_sites)}")
        parts.append("fused graph" if self.fused else "plain graph")
        return ", ".join(parts)


DEFAULT_SETTINGS = Int8Settings()

# Calibration input: finds which channels are wide (they are the same ones whatever the text;
# the ranges only pick the top few). Varied lengths and registers, fixed so builds repeat.
CALIBRATION = (
    "Recipe for baking chocolate chip cookies",
    "How do I reset my password?",
    "The stock market fell sharply on Monday after the central bank raised interest rates.",
    "A history of the Roman empire from Augustus to the fall of Constantinople.",
    "Best hiking trails in Norway for beginners, with maps and distances.",
    "def read_config(path): return json.loads(Path(path).read_text())",
    "Error 503: the service is temporarily unavailable, please retry later.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "She sells sea shells by the sea shore.",
    "What is the capital of Australia?",
    "Return the number of items in the container; raise KeyError if the key is missing.",
    "The quick brown fox jumps over the lazy dog.",
    "Patients with type 2 diabetes were randomised to receive metformin or placebo for 12 weeks.",
    "I loved this film, the acting was superb and the ending made me cry!",
    "Terrible customer service. Never ordering from them again.",
    "Install the package with pip, then run the server on port 6334.",
    "In 1969, Apollo 11 landed on the Moon and Neil Armstrong became the first person to walk on it.",
    "Convert 25 degrees Celsius to Fahrenheit.",
    "Machine learning models can overfit when the training set is small.",
    "The committee will meet on Thursday at 10:30 to discuss the budget for 2025.",
    "Water boils at 100 degrees Celsius at sea level.",
    "Why is the sky blue?",
    "Vector databases store embeddings and answer nearest-neighbour queries.",
    "The new smartphone has a 6.1-inch display, 128 GB of storage and a 12 MP camera.",
    "Please find attached the invoice for March; payment is due within 30 days.",
    "A large language model predicts the next token given the previous ones.",
    "Buy two, get one free - offer valid until Sunday.",
    "The mitochondria is the powerhouse of the cell.",
    "He scored twice in the second half, and the team won the championship.",
    "Translate 'good morning' into French, German and Spanish.",
    "Heavy rain is expected across the north of the country tonight, with local flooding possible.",
    "Use a context manager so that the file is closed even if an exception is raised.",
    ("The treaty, signed after months of negotiation, set out the terms under which the two "
     "countries would share the river's water, established a joint commission to settle disputes, "
     "and committed both governments to publishing flow measurements every quarter, a provision "
     "that observers said was the most important part of the agreement because it would allow "
     "farmers downstream to plan their planting seasons with far more confidence than before."),
    ("Tokenisers split text into word pieces; rare words become several pieces, so a sentence of "
     "twenty words may take thirty or forty tokens, and code, numbers and names take more: "
     "x = np.linalg.norm(v, axis=1, keepdims=True) / 1e-12 + 42 * (3.14159 ** 2)."),
)


def build(folder: Path, target: Path, settings: Int8Settings = DEFAULT_SETTINGS) -> Path:
    """folder: a BERT snapshot (model.safetensors, config.json, tokenizer.json). Writes the int8
    graph to `target` atomically."""
    config = json.loads((folder / "config.json").read_text())
    weights = safetensors.load(folder / "model.safetensors")
    model = bert.build_fused(weights, config) if settings.fused else bert.build(weights, config)
    outliers: dict[str, np.ndarray] = {}
    kept: dict[str, np.ndarray] = {}
    if settings.outlier_sites:
        outliers, kept = _set_outliers_aside(model, folder / "tokenizer.json", settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    from onnxruntime.quantization import quantize_dynamic

    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".int8-") as tmp, _quiet_quantizer():
        quantized_path = Path(tmp) / "quantized.onnx"
        # DefaultTensorType: onnx's shape inference cannot type the outputs of onnxruntime's
        # own operators (MultiHeadAttention, ...), which quantize_dynamic needs for every input.
        quantize_dynamic(model, quantized_path, op_types_to_quantize=["MatMul"], per_channel=settings.per_channel,
                         reduce_range=settings.reduce_range, extra_options={"DefaultTensorType": TensorProto.FLOAT})
        quantized = onnx.load(str(quantized_path))
    if settings.per_token:
        _per_token(quantized, outliers, kept)
    # A unique name per process: servers starting together may build the same file.
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    onnx.save(quantized, str(partial))
    partial.replace(target)
    return target


@contextlib.contextmanager
def _quiet_quantizer() -> Iterator[None]:
    """quantize_dynamic logs a line per tensor (and advice about pre-processing) on the root
    logger; in a server's start-up log that is noise."""

    def drop(record: logging.LogRecord) -> bool:
        return f"onnxruntime{os.sep}quantization" not in record.pathname

    root = logging.getLogger()
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)


def _site_inputs(model: onnx.ModelProto, sites: Sequence[str]) -> dict[str, list[NodeProto]]:
    """Input tensor -> the weight matmuls at `sites` that read it."""
    found: dict[str, list[NodeProto]] = defaultdict(list)
    for node in model.graph.node:
        if node.op_type == "MatMul" and node.name.rsplit(".", 1)[-1] in sites:
            found[node.input[0]].append(node)
    if not found:
        raise ValueError("no named weight matmuls in the graph (outlier sites need bert.build_fused)")
    return found


def _set_outliers_aside(model: onnx.ModelProto, tokenizer: Path,
                        settings: Int8Settings) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Zero the weight rows of each site's widest input channels, in place. Returns (input tensor
    -> those channels, weight name -> the rows taken out)."""
    sites = _site_inputs(model, settings.outlier_sites)
    ranges = channel_ranges(model, tokenizer, list(sites), CALIBRATION)
    weights = {t.name: t for t in model.graph.initializer}
    outliers: dict[str, np.ndarray] = {}
    kept: dict[str, np.ndarray] = {}
    for x, nodes in sites.items():
        channels = np.sort(np.argsort(-ranges[x])[: settings.outlier_channels]).astype(np.int64)
        outliers[x] = channels
        for node in nodes:
            w = numpy_helper.to_array(weights[node.input[1]]).copy()
            kept[node.input[1]] = w[channels].copy()
            w[channels] = 0
            weights[node.input[1]].CopyFrom(numpy_helper.from_array(w, node.input[1]))
    return outliers, kept


def channel_ranges(model: onnx.ModelProto, tokenizer_path: Path, tensors: list[str],
                   texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Largest |value| per channel (last axis) of `tensors`, over the real tokens of `texts`."""
    tapped = onnx.ModelProto()
    tapped.CopyFrom(model)
    for name in tensors:
        tapped.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(tapped.SerializeToString(), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)
    encodings = tokenizer.encode_batch(list(texts))
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), np.int64)
    mask = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        ids[row, : len(e.ids)], mask[row, : len(e.ids)] = e.ids, 1
    values = session.run(tensors, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
    real = mask.astype(bool)
    return {name: np.abs(value[real]).max(axis=0) for name, value in zip(tensors, values)}


class _Rewriter:
    """Nodes and constants added to a graph, with names that cannot clash with its own."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        self.graph = graph
        self.nodes: list[NodeProto] = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"pt{self._count}_{hint}"

    def const(self, array: np.ndarray, hint: str) -> str:
        name = self.name(hint)
        self.graph.initializer.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, out: str | None = None, **attrs: object) -> str:
        output = out or self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], **attrs))  # type: ignore[arg-type]
        return output


def _per_token(model: onnx.ModelProto, outliers: dict[str, np.ndarray], kept: dict[str, np.ndarray]) -> None:
    """Rewrite quantize_dynamic's chains, in place:

        DynamicQuantizeLinear(x) -> MatMulInteger -> Cast -> Mul(x_scale * w_scale)
    into
        scale = max|x| / 127 per token; QuantizeLinear(x, scale, 128) -> MatMulIntegerToFloat
        (scale as [tokens, 1], per-column weight scales) [+ the outlier channels' fp32 product].

    Symmetric around 128, so one scalar zero point serves every row (MatMulIntegerToFloat takes
    per-row scales but only a scalar zero point)."""
    g = model.graph
    weights = {t.name: t for t in g.initializer}
    producer = {out: node for node in g.node for out in node.output}
    consumers: dict[str, list[NodeProto]] = defaultdict(list)
    for node in g.node:
        for name in node.input:
            consumers[name].append(node)

    def only_user(name: str, op_type: str) -> NodeProto:
        users = consumers[name]
        if len(users) != 1 or users[0].op_type != op_type:
            raise RuntimeError(f"unexpected graph from quantize_dynamic: {name} feeds {[u.op_type for u in users]}, "
                               f"not one {op_type}")
        return users[0]

    r = _Rewriter(g)
    eps = r.const(np.array(1e-12, np.float32), "eps")
    inv127 = r.const(np.array(1 / 127, np.float32), "inv127")
    zero_point = r.const(np.array(128, np.uint8), "zp")
    rows = r.const(np.array([-1], np.int64), "rows")
    column = r.const(np.array([-1, 1], np.int64), "column")
    removed: set[str] = set()  # outputs of the nodes replaced
    for dql in [n for n in g.node if n.op_type == "DynamicQuantizeLinear"]:
        x = dql.input[0]
        x_q, x_scale = dql.output[0], dql.output[1]
        matmuls = consumers[x_q]
        if not matmuls or any(m.op_type != "MatMulInteger" for m in matmuls):
            raise RuntimeError(f"unexpected graph from quantize_dynamic: {x_q} feeds {[m.op_type for m in matmuls]}")
        depth = weights[matmuls[0].input[1]].dims[0]
        flat_shape = r.const(np.array([-1, depth], np.int64), "flat")
        source = x
        channels = outliers.get(x)
        if channels is not None:
            keep = np.ones(depth, np.float32)
            keep[channels] = 0
            source = r.op("Mul", x, r.const(keep, "keep"))
        biggest = r.op("Max", r.op("ReduceMax", source, axes=[-1], keepdims=1),
                       r.op("Neg", r.op("ReduceMin", source, axes=[-1], keepdims=1)), eps)
        scale = r.op("Mul", biggest, inv127)
        scale_rows = r.op("Reshape", scale, rows)
        zero_points = r.op("Expand", zero_point, r.op("Shape", scale_rows))
        quantized = r.op("QuantizeLinear", r.op("Reshape", source, flat_shape), scale_rows, zero_points, axis=0)
        scale_column = r.op("Reshape", scale, column)
        leading = r.op("Shape", x, end=-1)
        outlier_values = None
        if channels is not None:
            outlier_values = r.op("Gather", r.op("Reshape", x, flat_shape), r.const(channels, "channels"), axis=1)
        removed.update(dql.output)
        for matmul in matmuls:
            cast = only_user(matmul.output[0], "Cast")
            rescale = only_user(cast.output[0], "Mul")
            scales = producer[rescale.input[1]]
            if scales.op_type != "Mul" or x_scale not in scales.input:
                raise RuntimeError(f"unexpected graph from quantize_dynamic: {rescale.input[1]} is not x_scale * w_scale")
            w_scale = next(name for name in scales.input if name != x_scale)
            w_quantized = matmul.input[1]
            w_zero_point = matmul.input[3] if len(matmul.input) > 3 else ""
            width = weights[w_quantized].dims[1]
            y = r.op("MatMulIntegerToFloat", quantized, w_quantized, scale_column, w_scale, zero_point, w_zero_point,
                     domain=MS_DOMAIN)
            if outlier_values is not None:
                original = w_quantized.removesuffix("_quantized")
                if original not in kept:
                    raise RuntimeError(f"unexpected graph from quantize_dynamic: no weight {original} for {w_quantized}")
                # MatMul + Add rather than Gemm with C (which copies C first): faster with 2 threads.
                y = r.op("Add", y, r.op("MatMul", outlier_values, r.const(kept[original], "outlier_rows")))
            out_shape = r.op("Concat", leading, r.const(np.array([width], np.int64), "width"), axis=0)
            r.op("Reshape", y, out_shape, out=rescale.output[0])
            for node in (matmul, cast, rescale):
                removed.update(node.output)
            if len(consumers[scales.output[0]]) == 1:
                removed.update(scales.output)
    kept_nodes = [n for n in g.node if not set(n.output) & removed]
    del g.node[:]
    g.node.extend(_topological(g, kept_nodes + r.nodes))
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    unused = {t.name for t in g.initializer} - {name for n in g.node for name in n.input}
    if unused:  # quantize_dynamic's per-tensor scale products, now unread
        kept_init = [t for t in g.initializer if t.name not in unused]
        del g.initializer[:]
        g.initializer.extend(kept_init)


def _topological(graph: onnx.GraphProto, nodes: list[NodeProto]) -> list[NodeProto]:
    ready = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    ordered: list[NodeProto] = []
    pending = nodes
    while pending:
        waiting = []
        for node in pending:
            if all(name in ready for name in node.input):
                ordered.append(node)
                ready.update(node.output)
            else:
                waiting.append(node)
        if len(waiting) == len(pending):
            raise RuntimeError(f"graph rewrite left unreachable nodes: {[n.op_type for n in waiting[:5]]}")
        pending = waiting
    return ordered
