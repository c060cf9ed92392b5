"""A small ONNX graph builder with the transformer pieces BERT and CLIP are made of.

Weights use PyTorch's Linear layout ([out, in]); they are transposed once when added.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
# onnxruntime's own operators (MultiHeadAttention, SkipLayerNormalization, BiasGelu, ...).
MS_DOMAIN = "com.microsoft"


class GraphBuilder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes: list = []
        self.initializers: list = []
        self.inputs: list = []
        self.outputs: list = []
        self._count = 0

    def _fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def input(self, name: str, elem_type: int, shape: list) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, shape))
        return name

    def output(self, value: str, name: str, shape: list) -> None:
        self.nodes.append(helper.make_node("Identity", [value], [name]))
        self.outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))

    def const(self, array: np.ndarray, hint: str = "const") -> str:
        name = self._fresh(hint)
        # np.ascontiguousarray would turn a scalar into shape [1]; keep 0-d constants 0-d.
        self.initializers.append(numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def op(self, op_type: str, *inputs: str, hint: str | None = None, **attrs: Any) -> str:
        # `attrs` are ONNX node attributes (ints, floats, int lists, ...), as helper.make_node takes
        # them, plus make_node's own `name` and `domain`.
        return self.ops(op_type, *inputs, outputs=1, hint=hint, **attrs)[0]

    def ops(self, op_type: str, *inputs: str, outputs: int, hint: str | None = None, **attrs: Any) -> list[str]:
        """A node with several outputs (Split)."""
        outs = [self._fresh(hint or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, **attrs))
        return outs

    # ------------------------------------------------------------------ layers

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray | None = None, name: str | None = None) -> str:
        """`name` names the MatMul node (the int8 build finds its matmuls by name)."""
        y = self.op("MatMul", x, self.const(weight.T.astype(np.float32), "w"), name=name)
        return self.op("Add", y, self.const(bias.astype(np.float32), "b")) if bias is not None else y

    def layer_norm(self, x: str, gamma: np.ndarray, beta: np.ndarray, eps: float) -> str:
        return self.op("LayerNormalization", x, self.const(gamma.astype(np.float32), "ln_g"),
                       self.const(beta.astype(np.float32), "ln_b"), axis=-1, epsilon=eps)

    def gelu(self, x: str) -> str:
        """Exact GELU: x/2 * (1 + erf(x / sqrt 2))."""
        scaled = self.op("Mul", x, self.const(np.array(1 / np.sqrt(2), np.float32)))
        erf = self.op("Add", self.op("Erf", scaled), self.const(np.array(1.0, np.float32)))
        return self.op("Mul", self.op("Mul", x, erf), self.const(np.array(0.5, np.float32)))

    def quick_gelu(self, x: str) -> str:
        """CLIP's x * sigmoid(1.702 x)."""
        return self.op("Mul", x, self.op("Sigmoid", self.op("Mul", x, self.const(np.array(1.702, np.float32)))))

    def attention(self, x: str, w: dict[str, np.ndarray], heads: int, mask: str | None) -> str:
        """Multi-head self-attention. `w` has q/k/v/o weights and biases; `mask` is additive
        and broadcasts to [batch, heads, seq, seq]."""
        hidden = w["q_w"].shape[0]
        head_dim = hidden // heads
        split = self.const(np.array([0, 0, heads, head_dim], np.int64), "shape")

        def heads_first(t: str) -> str:
            return self.op("Transpose", self.op("Reshape", t, split), perm=[0, 2, 1, 3])

        q = heads_first(self.linear(x, w["q_w"], w["q_b"]))
        k = self.op("Transpose", self.op("Reshape", self.linear(x, w["k_w"], w["k_b"]), split), perm=[0, 2, 3, 1])
        v = heads_first(self.linear(x, w["v_w"], w["v_b"]))
        scores = self.op("Mul", self.op("MatMul", q, k), self.const(np.array(1 / np.sqrt(head_dim), np.float32)))
        if mask is not None:
            scores = self.op("Add", scores, mask)
        context = self.op("MatMul", self.op("Softmax", scores, axis=-1), v)
        merged = self.op("Reshape", self.op("Transpose", context, perm=[0, 2, 1, 3]),
                         self.const(np.array([0, 0, hidden], np.int64), "shape"))
        return self.linear(merged, w["o_w"], w["o_b"])

    def padding_mask(self, attention_mask: str) -> str:
        """[batch, seq] of 1/0 -> additive [batch, 1, 1, seq] of 0 / float32 min."""
        as_float = self.op("Cast", attention_mask, to=TensorProto.FLOAT)
        inverted = self.op("Sub", self.const(np.array(1.0, np.float32)), as_float)
        additive = self.op("Mul", inverted, self.const(np.array(np.finfo(np.float32).min, np.float32)))
        return self.op("Unsqueeze", additive, self.const(np.array([1, 2], np.int64), "axes"))

    def first_rows(self, table: str, ids: str) -> str:
        """Rows 0..seq-1 of `table` for a [batch, seq] input (position embeddings)."""
        seq = self.op("Slice", self.op("Shape", ids), self.const(np.array([1], np.int64), "start"),
                      self.const(np.array([2], np.int64), "end"))
        zero = self.const(np.array([0], np.int64), "zero")
        return self.op("Slice", table, zero, seq, zero)

    def model(self) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.initializers)
        opsets = [helper.make_opsetid("", OPSET)]
        if any(node.domain == MS_DOMAIN for node in self.nodes):
            opsets.append(helper.make_opsetid(MS_DOMAIN, 1))
        model = helper.make_model(graph, opset_imports=opsets, producer_name="vecinfer")
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model
