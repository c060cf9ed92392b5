"""Text -> dense vectors with an ONNX encoder and a `tokenizers` tokenizer."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from vecinfer.inference.onnx.manifest import Manifest
from vecinfer.inference.onnx.session import open_session


def length_groups(lengths: Sequence[int], max_tokens: int = 1024, run_cost: float = 8.0,
                  width_cost: float = 0.0015) -> list[list[int]]:
    """Sequence-length bucketing for a batch function that pads each run to its longest input:
    the indices of `lengths`, in runs of similar length, chosen to minimise the estimated cost
    sum over runs of run_cost + items * width * (1 + width_cost * width), with at most
    `max_tokens` padded tokens a run (a run always holds at least one input).

    Costs are in tokens of work. The defaults are all-MiniLM-L6-v2's on this kind of machine
    (one thread, fp32 and int8 alike): a run costs about 8 tokens on its own, attention adds
    0.15 % a token per token of width, and past ~1000 padded tokens a run the activations fall
    out of cache and every token gets dearer, so larger runs buy nothing. Measured against the
    sorted groups of 32 this replaced: 2.1-2.3x the documents/s on batches of 64 mixed passages
    (BENCHMARKS.md "Length-grouped runs")."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    width = [max(1, lengths[i]) for i in order]
    # best[j]: cheapest split of the j shortest; start[j]: where its last run starts.
    best = [0.0] + [float("inf")] * len(order)
    start = [0] * (len(order) + 1)
    for end in range(1, len(order) + 1):
        w = width[end - 1]  # the run [first, end) is padded to its longest, the last one
        for first in range(end - 1, -1, -1):
            items = end - first
            if items > 1 and items * w > max_tokens:
                break
            cost = best[first] + run_cost + items * w * (1 + width_cost * w)
            if cost < best[end]:
                best[end], start[end] = cost, first
    groups: list[list[int]] = []
    end = len(order)
    while end > 0:
        groups.append(order[start[end]:end])
        end = start[end]
    return groups[::-1]


class TextEncoder:
    def __init__(self, manifest: Manifest, threads: int = 1) -> None:
        self.manifest = manifest
        self.session = open_session(manifest.onnx, threads)
        # A second session on every core, for batches that run alone; opened on first use.
        self._wide: ort.InferenceSession | None = None
        self._wide_lock = threading.Lock()
        self.input_names = {i.name for i in self.session.get_inputs()}
        outputs = [o.name for o in self.session.get_outputs()]
        self.output = manifest.output or outputs[0]
        if self.output not in outputs:
            raise ValueError(f"{manifest.onnx}: no output {self.output!r} (has {outputs})")
        self.tokenizer = Tokenizer.from_file(str(manifest.tokenizer))
        # Packaged tokenizer files may carry their own limits (MiniLM's: truncate and pad to
        # 128): truncate at the manifest's window, and pad per group below.
        self.pad_id = self.tokenizer.padding["pad_id"] if self.tokenizer.padding else 0
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(manifest.max_tokens)

    def _wide_session(self) -> ort.InferenceSession:
        with self._wide_lock:
            if self._wide is None:
                self._wide = open_session(self.manifest.onnx, os.cpu_count() or 1)
            return self._wide

    def encode(self, texts: list[str], alone: bool = False) -> tuple[np.ndarray, list[int]]:
        """(vectors [n, dim], tokens used per text). `alone`: nothing else runs beside this
        batch, so it runs on every core (the wide session)."""
        session = self._wide_session() if alone else self.session
        encodings = self.tokenizer.encode_batch(texts)
        tokens = [len(e.ids) for e in encodings]
        out = np.zeros((len(texts), self.manifest.dimension), dtype=np.float32)
        # A batch runs in several padded runs of similar lengths: short texts are not padded to
        # the longest one of a mixed batch (with fixed padding every width is the same).
        widths = [self.manifest.pad_to or n for n in tokens]
        for group in length_groups(widths):
            out[group] = self._run(session, [encodings[i] for i in group])
        return out, tokens

    def _run(self, session: ort.InferenceSession, batch: list[Encoding]) -> np.ndarray:
        width = self.manifest.pad_to or max(len(e.ids) for e in batch)
        ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        types = np.zeros((len(batch), width), dtype=np.int64)
        for row, e in enumerate(batch):
            n = len(e.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = e.ids, 1, e.type_ids
        feed = {"input_ids": ids}
        if "attention_mask" in self.input_names:
            feed["attention_mask"] = mask
        if "token_type_ids" in self.input_names:
            feed["token_type_ids"] = types
        hidden = session.run([self.output], feed)[0]
        pooling = self.manifest.pooling
        if pooling == "mean":
            weights = mask[..., None].astype(np.float32)
            vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        elif pooling == "cls":
            vectors = hidden[:, 0]
        else:
            vectors = hidden
        if self.manifest.normalize:
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)
