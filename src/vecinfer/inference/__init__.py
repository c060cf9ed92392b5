"""Turns inference objects (Document, Image, InferenceObject) into vectors."""
