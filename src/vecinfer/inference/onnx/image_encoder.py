"""Images -> dense vectors with an ONNX vision tower (CLIP preprocessing)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image as PILImage

from vecinfer.inference.onnx.manifest import Manifest
from vecinfer.inference.onnx.session import open_session


def preprocess(image: PILImage.Image, size: int, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Shortest side to `size` (bicubic), centre crop, RGB, scale to [0, 1], normalise: CHW."""
    width, height = image.size
    scale = size / min(width, height)
    resized = image.resize((max(size, round(width * scale)), max(size, round(height * scale))),
                           PILImage.Resampling.BICUBIC)
    left = (resized.width - size) // 2
    top = (resized.height - size) // 2
    cropped = resized.crop((left, top, left + size, top + size))
    scaled = np.asarray(cropped, dtype=np.float32) / 255.0
    normalised = (scaled - np.array(mean, np.float32)) / np.array(std, np.float32)
    return normalised.transpose(2, 0, 1)


class ImageEncoder:
    def __init__(self, manifest: Manifest, threads: int = 1) -> None:
        self.manifest = manifest
        self.session = open_session(manifest.onnx, threads)
        self.input = self.session.get_inputs()[0].name
        outputs = [o.name for o in self.session.get_outputs()]
        self.output = manifest.output or outputs[0]
        if self.output not in outputs:
            raise ValueError(f"{manifest.onnx}: no output {self.output!r} (has {outputs})")

    def pixels(self, image: PILImage.Image) -> np.ndarray:
        m = self.manifest
        return preprocess(image, m.image_size, m.image_mean, m.image_std)

    def encode(self, pixel_arrays: list[np.ndarray]) -> np.ndarray:
        vectors = self.session.run([self.output], {self.input: np.stack(pixel_arrays)})[0]
        if self.manifest.normalize:
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)
