"""Embedders and cross-encoders with onnxruntime and torch backends (CPU, or CUDA when present)."""
