"""Check vecinfer's CLIP ONNX graphs against Hugging Face transformers on the same weights.

Runs in an environment with torch + transformers (not vecinfer's own), after
`python scripts/make_test_clip.py OUT`; writes reference outputs that --compare reads:

    /tmp/ref/bin/python scripts/check_clip_graph.py OUT --reference     # torch side
    .venv/bin/python scripts/check_clip_graph.py OUT --compare          # onnxruntime side
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

IDS = np.array([[49406, 320, 1125, 539, 320, 2368, 49407] + [0] * 70, [49406, 320, 49407] + [0] * 74])
MASK = (np.arange(77)[None] < np.array([[7], [3]])).astype(np.int64)
PIXELS = np.random.default_rng(1).standard_normal((2, 3, 224, 224)).astype(np.float32)


def reference(out: Path) -> None:
    import torch
    from transformers import CLIPModel

    model = CLIPModel.from_pretrained(str(out / "hf-snapshot")).eval()
    with torch.no_grad():
        text = model.get_text_features(input_ids=torch.tensor(IDS), attention_mask=torch.tensor(MASK))
        image = model.get_image_features(pixel_values=torch.tensor(PIXELS))
    text, image = getattr(text, "pooler_output", text), getattr(image, "pooler_output", image)
    np.savez(out / "reference.npz", text=text.numpy(), image=image.numpy())


def compare(out: Path) -> None:
    import onnxruntime as ort

    ref = np.load(out / "reference.npz")
    text = ort.InferenceSession(str(out / "tiny-clip-text" / "model.onnx")).run(None, {"input_ids": IDS, "attention_mask": MASK})[0]
    image = ort.InferenceSession(str(out / "tiny-clip-vision" / "model.onnx")).run(None, {"pixel_values": PIXELS})[0]
    print(f"text max abs diff {np.abs(text - ref['text']).max():.2e}, image {np.abs(image - ref['image']).max():.2e}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in ("--reference", "--compare"):
        sys.exit(__doc__)
    (reference if sys.argv[2] == "--reference" else compare)(Path(sys.argv[1]))
