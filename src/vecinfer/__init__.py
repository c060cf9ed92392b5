"""vecinfer: a gRPC-first vector store with built-in embedding inference."""

__version__ = "0.1.0"

TITLE = "vecinfer - vector search with built-in inference"
# The version of Qdrant's API we answer; clients compare it with their own (major equal,
# minor within one).
API_VERSION = "1.20.0"
