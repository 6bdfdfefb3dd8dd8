"""The per-stream oversight core: windows, halt policy and stream state. Pure code, no I/O."""
