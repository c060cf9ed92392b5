"""Durable storage of collections: segments of points, write-ahead log, checkpoints."""
