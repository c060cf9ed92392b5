"""JSON <-> domain conversion for the REST door, one module per family of shapes."""
