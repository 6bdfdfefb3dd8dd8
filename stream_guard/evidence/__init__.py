"""Evidence retrieval: per-tenant FAISS collections on disk and per-stream inline context.

* :mod:`.store` writes collections (``add_documents``, ``remove_collection``, ``scan_collections``)
* :mod:`.embedded` keeps what an unfinished add embedded, for the next add to take
  (``EmbeddedSoFar``)
* :mod:`.reader` serves them (``EvidenceLibrary``: ``poll``/``reload``/``search``)
* :mod:`.context` cuts a stream's own context into passages and their sentences
  (``context_sentences``)
* :mod:`.premise` focuses a window's evidence into one short premise (``SentenceIndex``)
* :mod:`.cli` registers ``stream-guard index add|ls|rm|search`` (``add_index_commands``)
"""
