"""Grounding scores: the lexical tier, the model tier, the cascade, and the batching scheduler."""
