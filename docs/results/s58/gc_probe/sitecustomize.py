"""A probe of garbage collections, loaded by every Python process started with this folder on
PYTHONPATH (fifty-eighth session): each collection's generation and duration (``gc.callbacks``),
written at exit to $GCLOG; GCFREEZE=S freezes the heap S seconds after start, GCCENSUS=S counts
the tracked objects by type S seconds after start. The runs of docs/benchmarks-log.md's
fifty-eighth section, from a checkout (the server is the load generator's child, so both are
probed; the lower pid is the generator):

    GCLOG=/tmp/gc.txt PYTHONPATH=docs/results/s58/gc_probe:. python -m loadtest.run --spawn \
        --tier cascade --streams 12 --duration 30 --corpus D/summedits_dev.jsonl \
        D/summedits_train.jsonl D/halueval_summarization.jsonl D/begin_dev.jsonl \
        --answers written --out /tmp/run.json

``gc-probe-last-run.txt`` is the output of the last run (at `0963f73`'s server, GCCENSUS=28);
the earlier runs' outputs were overwritten.
"""
# ruff: noqa
import gc, time, os, atexit, threading
_start = {}
_log = []
def _cb(phase, info):
    if phase == "start":
        _start[threading.get_ident()] = time.perf_counter()
    else:
        t0 = _start.pop(threading.get_ident(), None)
        if t0 is not None:
            _log.append((info["generation"], time.perf_counter() - t0, time.time()))
gc.callbacks.append(_cb)
_t0 = time.time()
def _dump():
    import collections
    out = os.environ.get("GCLOG", "/tmp/s67/gc.txt")
    by = collections.defaultdict(list)
    for g, d, w in _log:
        by[g].append(d * 1000)
    with open(out, "a") as f:
        for g in sorted(by):
            xs = sorted(by[g])
            f.write(f"pid {os.getpid()} gen{g} n={len(xs)} total={sum(xs):.0f}ms p50={xs[len(xs)//2]:.2f} max={xs[-1]:.1f} top={[round(x,1) for x in xs[-8:]]}\n")
        f.write(f"pid {os.getpid()} gen2 at(s)={[(round(w-_t0,1), round(d*1000,1)) for g,d,w in _log if g==2]}\n")
atexit.register(_dump)
if os.environ.get("GCFREEZE"):
    def _freeze():
        time.sleep(float(os.environ["GCFREEZE"]))
        gc.collect(); gc.freeze()
        _log.append((9, 0.0, time.time()))
    threading.Thread(target=_freeze, daemon=True).start()
if os.environ.get("GCCENSUS"):
    def _census():
        import collections, sys
        time.sleep(float(os.environ["GCCENSUS"]))
        objs = gc.get_objects()
        c = collections.Counter(type(o).__name__ for o in objs)
        mods = collections.Counter(getattr(type(o), "__module__", "?") for o in objs)
        with open(os.environ.get("GCLOG", "/tmp/s67/gc.txt"), "a") as f:
            f.write(f"pid {os.getpid()} census at {time.time()-_t0:.1f}s tracked={len(objs)} {c.most_common(25)}\n   modules {mods.most_common(12)}\n")
    threading.Thread(target=_census, daemon=True).start()
