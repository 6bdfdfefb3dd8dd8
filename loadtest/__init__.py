"""Load generators for stream-guard: a precise asyncio one (``python -m loadtest.run``) and a
locust user (``loadtest/locustfile.py``). Both build their streams with :mod:`loadtest.corpus`.
"""
