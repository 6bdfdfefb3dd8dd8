"""The oversight core: windows, halt policy, per-stream state and the per-connection session.

Pure code, no I/O: the server feeds it client frames and scores and carries out what it answers.
"""
