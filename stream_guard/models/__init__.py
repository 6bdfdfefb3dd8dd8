"""Embedders and cross-encoders with onnxruntime and torch backends (CPU, or CUDA when present).

Entry points (import them from their modules; this package stays cheap to import):

* :func:`stream_guard.models.embedder.load_embedder` -> a :class:`~.embedder.Embedder`
* :func:`stream_guard.models.cross_encoder.load_detector` -> a
  :class:`~stream_guard.scores.PairScorer` (:class:`~.cross_encoder.CrossEncoderScorer`)
* :func:`stream_guard.models.packaged.minilm_dir` -> the packaged all-MiniLM-L6-v2 directory

torch is imported only by :mod:`stream_guard.models.torch_backend`, when ``backend="torch"`` is
chosen or a non-BERT model has to be exported to ONNX.
"""
