"""Local ONNX models: text encoders (MiniLM and other BERT-likes) and CLIP text/vision."""
