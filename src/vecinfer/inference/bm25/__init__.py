"""`qdrant/bm25`: sparse BM25 vectors computed in-process, bit-exact with Qdrant's server."""
