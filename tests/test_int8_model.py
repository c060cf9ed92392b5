"""The int8 variant of all-MiniLM-L6-v2 (`sentence-transformers/all-minilm-l6-v2-int8`): built at
start from the packaged weights with onnxruntime's quantization tools, listed, served next to
the fp32 model, close to it but really quantized."""

from __future__ import annotations

import subprocess
import sys

import grpc
import numpy as np
import pytest
from qdrant_client import models

MINILM = "sentence-transformers/all-minilm-l6-v2"
INT8 = MINILM + "-int8"
TEXTS = [
    "Recipe for baking chocolate chip cookies",
    "The stock market fell sharply on Monday.",
    "How to change a flat tyre on a bicycle",
    "A history of the Roman empire",
    "Best hiking trails in Norway",
    "Return the number of items in the container; raise KeyError if the key is missing.",
]


def cosine(a: list[float], b: list[float]) -> float:
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


@pytest.fixture(scope="module")
def both(cloud_client):
    """A collection with every text embedded by both models."""
    name = "int8_both"
    cloud_client.create_collection(name, vectors_config={
        "fp32": models.VectorParams(size=384, distance=models.Distance.COSINE),
        "int8": models.VectorParams(size=384, distance=models.Distance.COSINE),
    })
    cloud_client.upsert(name, points=[models.PointStruct(id=i, payload={"text": t}, vector={
        "fp32": models.Document(text=t, model=MINILM),
        "int8": models.Document(text=t, model=INT8),
    }) for i, t in enumerate(TEXTS)])
    return name


def test_int8_vectors_are_close_to_fp32_and_not_identical(cloud_client, both):
    points = cloud_client.retrieve(both, ids=list(range(len(TEXTS))), with_vectors=True)
    assert len(points) == len(TEXTS)
    for point in points:
        int8, fp32 = point.vector["int8"], point.vector["fp32"]
        assert len(int8) == 384
        assert np.linalg.norm(int8) == pytest.approx(1.0, abs=1e-5)
        similarity = cosine(int8, fp32)
        assert similarity >= 0.99, (point.payload["text"], similarity)
        # Really the quantized graph: fp32 graphs of this model agree to ~1e-7.
        assert similarity < 0.99999 and np.abs(np.subtract(int8, fp32)).max() > 1e-4, point.payload["text"]


def test_int8_queries_rank_like_fp32(cloud_client, both):
    query = "How to bake cookies?"
    int8_hits = cloud_client.query_points(both, query=models.Document(text=query, model=INT8), using="int8", limit=3).points
    fp32_hits = cloud_client.query_points(both, query=models.Document(text=query, model=MINILM), using="fp32", limit=3).points
    assert int8_hits[0].payload["text"] == TEXTS[0]
    assert [h.id for h in int8_hits] == [h.id for h in fp32_hits]
    assert int8_hits[0].score == pytest.approx(fp32_hits[0].score, abs=0.01)


def test_model_names_are_case_insensitive(cloud_client, both):
    hits = cloud_client.query_points(both, query=models.Document(text="cookies", model=INT8.upper()), using="int8", limit=1).points
    assert hits[0].id == 0


MIXED = ["Cookies", *TEXTS, " ".join(TEXTS * 3), " ".join(TEXTS * 12)]  # 3 to over 256 word pieces


@pytest.mark.parametrize("model", [MINILM, INT8])
def test_mixed_length_batches_give_the_same_vectors_as_one_by_one(cloud_client, model):
    """A batch runs in padded runs of similar lengths (length_groups), and the int8 graph gives
    every token its own quantization scale: a text's vector is the same alone and batched with
    texts of other lengths (one scale per batch would make it depend on them)."""
    name = "batches_" + model.rsplit("-", 1)[-1]
    cloud_client.create_collection(name, vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE))
    cloud_client.upsert(name, points=[models.PointStruct(id=100 + i, vector=models.Document(text=t, model=model))
                                      for i, t in enumerate(MIXED)])
    for i, text in enumerate(MIXED):
        cloud_client.upsert(name, points=[models.PointStruct(id=i, vector=models.Document(text=text, model=model))])
    alone = {p.id: p.vector for p in cloud_client.retrieve(name, ids=list(range(len(MIXED))), with_vectors=True)}
    batched = {p.id - 100: p.vector for p in cloud_client.retrieve(name, ids=[100 + i for i in range(len(MIXED))],
                                                                  with_vectors=True)}
    for i in range(len(MIXED)):
        assert np.allclose(alone[i], batched[i], atol=1e-5), MIXED[i][:40]


def test_length_groups_run_similar_lengths_together():
    from vecinfer.inference.onnx.text_encoder import length_groups

    lengths = [8, 250, 9, 12, 40, 8, 256, 41, 10, 120, 8, 39] * 5
    groups = length_groups(lengths, max_tokens=1024)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for group in groups:
        widths = [lengths[i] for i in group]
        assert len(group) == 1 or len(group) * max(widths) <= 1024
        assert max(widths) <= 2 * min(widths)  # a short text is never padded to a long one's width
    # Runs follow length order, so a run holds the shortest texts not yet placed.
    assert [max(lengths[i] for i in g) for g in groups] == sorted(max(lengths[i] for i in g) for g in groups)
    fixed = length_groups([77] * 30, max_tokens=1024)  # fixed padding (CLIP text): as few runs as fit
    assert len(fixed) == 3 and max(len(g) for g in fixed) <= 1024 // 77
    assert length_groups([]) == [] and length_groups([300, 5], max_tokens=100) == [[1], [0]]


def test_unknown_variant_is_refused_with_the_known_names(cloud_client, both):
    with pytest.raises(grpc.RpcError) as info:
        cloud_client.query_points(both, query=models.Document(text="cookies", model=MINILM + "-int4"), using="int8")
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"`{MINILM}-int4`" in info.value.details()
    assert INT8 in info.value.details() and MINILM in info.value.details()


def test_vecinfer_models_lists_the_variant():
    out = subprocess.run([sys.executable, "-m", "vecinfer.cli", "models"], capture_output=True, text=True, timeout=300,
                         check=True).stdout
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    fields = lines[INT8].split()
    assert fields[1:4] == ["dense", "384", "text"]
    assert "int8 of " + MINILM in lines[INT8] and "onnxruntime" in lines[INT8] and "per-channel" in lines[INT8]


def test_the_cached_graph_is_keyed_by_the_quantization_settings(tmp_path):
    from vecinfer.inference.onnx.catalogue import builtin_minilm_int8
    from vecinfer.inference.onnx.quantize import DEFAULT_SETTINGS, Int8Settings

    settings = Int8Settings(outlier_channels=2)
    assert settings.key() != DEFAULT_SETTINGS.key()
    assert Int8Settings(per_channel=False, per_token=False, outlier_sites=()).key() != settings.key()
    manifest = builtin_minilm_int8(tmp_path, settings)
    assert manifest is not None and settings.key() in manifest.onnx.name and manifest.onnx.exists()
    built = manifest.onnx.stat().st_mtime_ns
    again = builtin_minilm_int8(tmp_path, settings)
    assert again is not None and again.onnx == manifest.onnx and again.onnx.stat().st_mtime_ns == built  # not rebuilt
    assert [p.name for p in manifest.onnx.parent.iterdir()] == [manifest.onnx.name]  # no temporary files left
