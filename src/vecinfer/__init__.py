"""vecinfer: a gRPC-first vector store with built-in embedding inference."""

__version__ = "0.1.0"
