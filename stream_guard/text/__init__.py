"""Text analysis shared by serving and training, with no dependency on the rest of the package.

* :mod:`.sentences`: sentence boundaries (``sentence_spans``, the incremental scanner)
* :mod:`.terms`: content terms and quantities (what coverage, BM25 and the premise compare)
* :mod:`.stance`: whether a sentence is about the conversation (its speaker, its listener) or
  only service talk
"""
