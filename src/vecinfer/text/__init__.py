"""Text processing shared by BM25 (inference/bm25) and full-text payload indexes (storage):
Rust's character rules, stopword lists, ASCII folding, Snowball stemmers and Qdrant's
tokenizers. Imports nothing from the layers above it."""
