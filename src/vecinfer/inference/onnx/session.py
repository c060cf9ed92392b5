"""onnxruntime sessions configured for a shared, small machine."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort


def open_session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    # Parallelism comes from running several batches at once; a spinning thread pool
    # collapses throughput when another process holds a core.
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
