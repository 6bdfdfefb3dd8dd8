"""Retrieval through the server: real MiniLM embeddings, real FAISS collections, per tenant."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from stream_guard.cli import main as cli
from stream_guard.evidence.reader import Collection
from stream_guard.models.embedder import SentenceEmbedder
from stream_guard.models.packaged import minilm_dir
from tests.conftest import make_settings, running_server
from tests.wsclient import API_KEY_2, open_ws, recv, send, stream_text

pytestmark = pytest.mark.slow

TOWER = ("The Eiffel Tower is a wrought-iron lattice tower in Paris. It is 330 metres tall. "
         "It was designed by the engineering company of Gustave Eiffel and completed in 1889.")
BRIDGE = ("The Golden Gate Bridge spans the strait between San Francisco Bay and the Pacific "
          "Ocean. It opened in 1937 and its main span is 1,280 metres long.")


OTHERS = [
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The violin has four strings tuned in perfect fifths.",
    "Mount Kilimanjaro is the highest mountain in Africa.",
]


def _index(data_dir: Path, tenant: str, collection: str, *files: Path) -> None:
    assert cli(["index", "add", "--data-dir", str(data_dir), "--tenant", tenant,
                "--collection", collection, "--no-progress", *map(str, files)]) == 0


async def _tower_collection(tmp_path: Path, collection: str) -> tuple[Path, Path]:
    """``docs/tower.txt`` indexed as ``collection`` of tenant-a: the docs folder and the
    data directory."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tower.txt").write_text(TOWER)
    data_dir = tmp_path / "data"
    await asyncio.to_thread(_index, data_dir, "tenant-a", collection, docs / "tower.txt")
    return docs, data_dir


async def test_collections_are_searched_per_tenant_and_reloaded_without_restart(
        tmp_path: Path, model_cache: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="stream_guard")
    docs, data_dir = await _tower_collection(tmp_path, "landmarks")
    settings = make_settings(tmp_path, embedder="minilm", data_dir=data_dir,
                             cache_dir=model_cache, index_poll_s=0.2)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "s1", "The Eiffel Tower was completed in 1889. ",
                                   context=[], options=None, end=True,
                                   collection="landmarks")
        verdicts = [f for f in frames if f["type"] == "verdict"]
        assert verdicts[0]["label"] == "supported"
        assert "1889" in verdicts[0]["evidence"][0]["text"]

        # another tenant cannot see it
        async with open_ws(server.port, key=API_KEY_2) as other:
            await send(other, {"type": "start", "stream_id": "x", "collection": "landmarks"})
            err = await recv(other)
            assert err["type"] == "error" and err["code"] == "unknown_collection"
            # it names the caller's tenant: another tenant's collection is the likely mistake
            assert "'landmarks' does not exist for tenant 'tenant-b'" in err["message"]

        # a document added to the collection is picked up by the running server
        (docs / "bridge.txt").write_text(BRIDGE)
        await asyncio.to_thread(_index, data_dir, "tenant-a", "landmarks", docs / "bridge.txt")
        claim = "The Golden Gate Bridge opened in 1937. "
        for _ in range(50):
            frames = await stream_text(ws, "s2", claim, context=[], collection="landmarks")
            if not frames[-1]["halted"]:
                break
            await asyncio.sleep(0.2)
        assert frames[-1]["halted"] is False
        verdict = next(f for f in frames if f["type"] == "verdict")
        assert "1937" in verdict["evidence"][0]["text"]
        # and the server said so in its log, for the operator who ran `index add`
        assert any(r.getMessage() == "evidence collections changed: tenant-a/landmarks"
                   for r in caplog.records)


async def test_a_damaged_collection_does_not_stop_the_server_or_the_others(
        tmp_path: Path, model_cache: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Before, one tenant's damaged VERSION file stopped `stream-guard serve` at start with a
    traceback; and a SIGHUP reload that failed vanished inside its task, unlogged."""
    caplog.set_level(logging.INFO, logger="stream_guard")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tower.txt").write_text(TOWER)
    data_dir = tmp_path / "data"
    for tenant in ("tenant-a", "tenant-b"):
        await asyncio.to_thread(_index, data_dir, tenant, "landmarks", docs / "tower.txt")
    (data_dir / "tenant-b" / "landmarks" / "VERSION").write_text('{"version": 1, "di')
    settings = make_settings(tmp_path, embedder="minilm", data_dir=data_dir,
                             cache_dir=model_cache, index_poll_s=86400)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "s1", "The Eiffel Tower was completed in 1889. ",
                                   context=[], collection="landmarks")
        assert next(f for f in frames if f["type"] == "verdict")["label"] == "supported"
        async with open_ws(server.port, key=API_KEY_2) as other:
            await send(other, {"type": "start", "stream_id": "x", "collection": "landmarks"})
            assert (await recv(other))["code"] == "unknown_collection"
        assert any(getattr(r, "collection", None) == "tenant-b/landmarks"
                   and r.levelno == logging.WARNING for r in caplog.records)

        # A reload that fails as a whole (the data directory is gone, a file in its place)
        # is logged as an error with its traceback; the loaded collections are still served.
        data_dir.rename(tmp_path / "moved")
        data_dir.write_text("")
        server.reload_evidence()  # what SIGHUP calls
        for _ in range(100):
            if "evidence not reloaded (SIGHUP)" in caplog.text:
                break
            await asyncio.sleep(0.05)
        failed = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(failed) == 1 and failed[0].exc_info is not None
        assert "is not a directory" in caplog.text
        frames = await stream_text(ws, "s2", "The Eiffel Tower was completed in 1889. ",
                                   context=[], collection="landmarks")
        assert next(f for f in frames if f["type"] == "verdict")["label"] == "supported"


async def test_inline_context_is_aligned_sentence_by_sentence(
        tmp_path: Path, model_cache: Path) -> None:
    context = [{"id": "bridge", "text": BRIDGE},
               *({"id": f"other-{i}", "text": text} for i, text in enumerate(OTHERS)),
               {"id": "tower", "text": TOWER}]
    settings = make_settings(tmp_path, embedder="minilm", cache_dir=model_cache)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "s1", "The tower in Paris is 330 metres tall. ",
                                   context=context)
        verdict = next(f for f in frames if f["type"] == "verdict")
        assert verdict["label"] == "supported"
        assert verdict["evidence"][0]["id"].startswith("tower")
        frames = await stream_text(ws, "s2", "The tower in Paris is 500 metres tall. ",
                                   context=context)
        assert frames[-1]["halted"] is True
        assert next(f for f in frames if f["type"] == "halt")["reason"] == "contradicted"


async def test_stream_setup_indexes_sentences_without_the_model(tmp_path: Path,
                                                               model_cache: Path) -> None:
    """Inline context is split and indexed once, off the model thread; nothing is embedded."""
    from stream_guard.metrics import Metrics
    from stream_guard.protocol.frames import ContextItem
    from stream_guard.scoring.factory import build_engine

    settings = make_settings(tmp_path, embedder="minilm", cache_dir=model_cache)
    engine = await build_engine(settings, Metrics())
    try:
        request = engine.validate("t", [ContextItem(f"d{i}", t) for i, t in enumerate(
            [TOWER, BRIDGE, *OTHERS])], None)
        evidence = await engine.open_stream(request)
        assert len(evidence.sentences) == 8
        assert evidence.quantities["metre"] == frozenset({"330", "1280"})
        score = await engine.check(evidence, "The tower was completed in 1889.", "")
        assert score.support == 1.0 and "1889" in score.evidence[0].text
        assert score.evidence[0].id == "d0#0" and not score.degraded
    finally:
        await engine.close()


async def test_a_true_claim_about_one_of_many_near_identical_products_is_not_halted(
        tmp_path: Path, model_cache: Path, minilm: SentenceEmbedder) -> None:
    """A catalogue of product sheets that differ only in model number and figures: the claim's
    own sheet must reach its premise even where the embeddings rank other sheets first (the
    keyword stage finds it by its model number), or a true claim halts as contradicted."""
    data_dir, collection = await _catalog(tmp_path)
    claims = {m: f"The Vantor K-{m} weighs {1 + m % 7}.{m % 10} kg. " for m in range(100, 220)}
    dense = collection.search(minilm.embed(list(claims.values())), k=3)
    missed = [m for m, hits in zip(claims, dense, strict=True)
              if f"K-{m}#0" not in {h.id for h in hits}][:8]
    assert missed  # the embeddings alone do miss some: the case this is for
    streamed = await _stream_claims(tmp_path, data_dir, model_cache,
                                    {m: claims[m] for m in missed})
    for m, frames in streamed.items():
        assert frames[-1]["halted"] is False, (m, frames)
        verdict = next(f for f in frames if f["type"] == "verdict")
        assert f"K-{m}#0" in {e["id"] for e in verdict["evidence"]}


def _sheet(m: int) -> str:
    return (f"The Vantor K-{m} cordless drill was released in {2010 + m % 12}. It weighs "
            f"{1 + m % 7}.{m % 10} kg and its motor is rated at {300 + 10 * (m % 50)} watts.")


async def _catalog(tmp_path: Path) -> tuple[Path, Collection]:
    """The sheets of the K-100 to K-219, indexed as tenant-a's collection "catalog"."""
    docs = tmp_path / "catalog.jsonl"
    docs.write_text("".join(json.dumps({"id": f"K-{m}", "text": _sheet(m)}) + "\n"
                            for m in range(100, 220)))
    data_dir = tmp_path / "data"
    await asyncio.to_thread(_index, data_dir, "tenant-a", "catalog", docs)
    return data_dir, Collection.open(data_dir, "tenant-a", "catalog")


async def _stream_claims(tmp_path: Path, data_dir: Path, model_cache: Path,
                         claims: dict[int, str]) -> dict[int, list[dict[str, Any]]]:
    """Each claim streamed against the collection alone, through a real server: its frames."""
    settings = make_settings(tmp_path, embedder="minilm", data_dir=data_dir,
                             cache_dir=model_cache)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        return {m: await stream_text(ws, f"k{m}", text, context=[], collection="catalog")
                for m, text in claims.items()}


async def test_a_false_claim_taking_a_neighbouring_products_figure_halts(
        tmp_path: Path, model_cache: Path, minilm: SentenceEmbedder) -> None:
    """The claim's model number with another sheet's weight: the embeddings return that other
    sheet ("It weighs 2.5 kg ...") beside the claim's own, and pooled evidence covered the false
    figure. Scoped to the sheet that names the claim's product (evidence/scope.py), it halts as
    contradicted, citing that sheet."""
    data_dir, collection = await _catalog(tmp_path)
    # K-m with the weight of K-(m+1): a figure only a neighbour's sheet states.
    claims = {m: f"The Vantor K-{m} weighs {1 + (m + 1) % 7}.{(m + 1) % 10} kg. "
              for m in range(100, 219)}
    found = collection.search(minilm.embed(list(claims.values())), k=3, texts=list(claims.values()))
    confusable = [m for m, hits in zip(claims, found, strict=True)
                  if {f"K-{m}#0", f"K-{m + 1}#0"} <= {h.id for h in hits}][:8]
    assert confusable  # both sheets in the evidence: the case this is for
    streamed = await _stream_claims(tmp_path, data_dir, model_cache,
                                    {m: claims[m] for m in confusable})
    for m, frames in streamed.items():
        halt = next((f for f in frames if f["type"] == "halt"), None)
        assert halt is not None and halt["reason"] == "contradicted", (m, frames)
        assert [e["id"] for e in halt["evidence"]] == [f"K-{m}#0"]


TRANSFER = ("Alvaro Morata moved to Juventus. The 22-year-old joined the Italian giants for "
            "£15.8million last summer after failing to break into the Real first-team on a "
            "regular basis.")


async def test_a_changed_age_does_not_fetch_another_documents_age_as_support(
        tmp_path: Path, model_cache: Path) -> None:
    """A review: "28-year-old" was searched by keyword as if it were a name, and found a
    migrant's story that says "28-year-old"; its chunk joined the premise, the changed age
    counted as stated, and the false claim passed (supported 0.65). A word holding a figure is
    no name: the claim halts, checked against its source's "22-year-old"."""
    docs = tmp_path / "news"
    docs.mkdir()
    (docs / "transfer.txt").write_text(TRANSFER)
    (docs / "migrant.txt").write_text("I asked 28-year-old Jibril, from Gambia, why he had left "
                                      "his home. He said he wanted work.")
    for n in range(1, 9):
        (docs / f"club{n}.txt").write_text(
            f"Club {n} signed a forward from Spain last summer for a record fee. The Italian "
            "side hoped he would break into the first team on a regular basis.")
    data_dir = tmp_path / "data"
    await asyncio.to_thread(_index, data_dir, "tenant-a", "news", docs)
    claim = TRANSFER.split(". ", 1)[1].replace("22-year-old", "28-year-old")
    settings = make_settings(tmp_path, embedder="minilm", data_dir=data_dir,
                             cache_dir=model_cache, tier="cascade", verdict_deadline_ms=0)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        frames = await stream_text(ws, "age", claim + " ", context=[], collection="news")
        halt = next((f for f in frames if f["type"] == "halt"), None)
        assert halt is not None and halt["reason"] == "contradicted", frames
        assert "transfer.txt#0" in {e["id"] for e in halt["evidence"]}
        assert "migrant.txt#0" not in {e["id"] for e in halt["evidence"]}
        # the true claim is still supported
        frames = await stream_text(ws, "true", TRANSFER + " ", context=[], collection="news")
        assert frames[-1]["halted"] is False, frames


async def test_a_collection_another_embedder_indexed_is_named_at_start(
        tmp_path: Path, model_cache: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A review: a server whose embedder cannot search a collection (its vectors are of
    another model or recipe) logged it as loaded and said ready; only a client's start
    found out. The start still refuses it; the log says so when the server starts."""
    caplog.set_level(logging.INFO, logger="stream_guard")
    _, data_dir = await _tower_collection(tmp_path, "landmarks")
    other = tmp_path / "minilm-128"  # the same weights cut at another length: another space
    shutil.copytree(minilm_dir(model_cache), other)
    (other / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    settings = make_settings(tmp_path, embedder=str(other), data_dir=data_dir,
                             cache_dir=model_cache)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        warned = [r for r in caplog.records if r.levelno == logging.WARNING
                  and "indexed with another embedder" in r.getMessage()]
        assert [r.__dict__["collections"] for r in warned] == [["tenant-a/landmarks"]]
        await send(ws, {"type": "start", "stream_id": "x", "collection": "landmarks"})
        err = await recv(ws)
        assert err["code"] == "unknown_collection" and "was indexed with" in err["message"]


async def test_a_stream_on_a_damaged_collection_is_told_it_is_damaged(
        tmp_path: Path, model_cache: Path) -> None:
    """A review: it was told "collection 'broken' does not exist", though `index ls` and the
    log named it."""
    _, data_dir = await _tower_collection(tmp_path, "broken")
    (data_dir / "tenant-a" / "broken" / "v000001" / "docs.sqlite").write_bytes(b"garbage")
    settings = make_settings(tmp_path, embedder="minilm", data_dir=data_dir,
                             cache_dir=model_cache)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        await send(ws, {"type": "start", "stream_id": "x", "collection": "broken"})
        err = await recv(ws)
        assert err["code"] == "unknown_collection"
        assert "could not be loaded" in err["message"] and "does not exist" not in err["message"]
        await send(ws, {"type": "start", "stream_id": "y", "collection": "nothing"})
        assert "does not exist" in (await recv(ws))["message"]


async def test_a_collection_damaged_while_served_halts_holdback_and_is_set_aside(
        tmp_path: Path, model_cache: Path) -> None:
    """A review: with a loaded collection's docs.sqlite overwritten in place, every window of
    every stream on it failed (``internal``), holdback released them, and new streams were
    started as if nothing were wrong. Holdback halts (``unchecked``), and the collection is
    set aside: a new stream is told it is damaged, until it is indexed again."""
    docs, data_dir = await _tower_collection(tmp_path, "kb")
    settings = make_settings(tmp_path, embedder="minilm", data_dir=data_dir,
                             cache_dir=model_cache)
    claim = "The Eiffel Tower is 900 metres tall and made of gold. Next"
    async with running_server(settings) as server, open_ws(server.port) as ws:
        await send(ws, {"type": "start", "stream_id": "warm", "collection": "kb"})
        assert (await recv(ws))["type"] == "started"
        (data_dir / "tenant-a" / "kb" / "v000001" / "docs.sqlite").write_bytes(b"garbage")
        frames = await stream_text(ws, "s", claim, context=[], collection="kb",
                                   options={"mode": "holdback"})
        assert [f["code"] for f in frames if f["type"] == "error"][:1] == ["internal"]
        (halt,) = [f for f in frames if f["type"] == "halt"]
        assert halt["reason"] == "unchecked" and halt["at"] == 0
        assert not [f for f in frames if f["type"] == "release"]
        await send(ws, {"type": "start", "stream_id": "later", "collection": "kb"})
        err = await recv(ws)
        assert err["code"] == "unknown_collection" and "could not be loaded" in err["message"]
        shutil.rmtree(data_dir / "tenant-a" / "kb")  # the operator indexes it afresh
        await asyncio.to_thread(_index, data_dir, "tenant-a", "kb", docs / "tower.txt")
        assert server.engine is not None and server.engine.library is not None
        await asyncio.to_thread(server.engine.library.poll)  # what the poller does
        await send(ws, {"type": "start", "stream_id": "again", "collection": "kb"})
        assert (await recv(ws))["type"] == "started"


# Three letters of four parts each, every part a chunk of its own (the padding is the kind of
# sentence such letters are full of).
LETTERS = {
    "energy": ["Dear Jason, EcoGrid's building system cuts energy costs by up to 30 percent.",
               "Its sensors switch lights off in empty rooms and tune the heating by the hour.",
               "Plans start at $300 a month for monitoring, $600 with heating control.",
               "Try the premium plan free for 30 days; cancel any time without a fee."],
    "dental": ["Dear patient, the Elm Street dental clinic opens a new wing in March.",
               "A check-up costs $45 and includes a scale and polish by our hygienists.",
               "Children under 12 are seen on Saturday mornings between 9 and 12.",
               "Book online or call the front desk; we send a reminder two days before."],
    "cycling": ["Hello riders, Spoke & Chain services every bike brand we sell or repair.",
                "A full tune-up costs $89 and takes two working days in the spring.",
                "Members get 15 percent off parts and a free safety check each year.",
                "Our winter opening hours are 10 to 6 from Tuesday to Saturday."],
}
PADDING = ("We value every customer and are always glad to answer any question you may have "
           "about our services, our people or the way we work. ")


async def test_a_search_adds_the_other_parts_of_its_best_documents_and_no_others(
        tmp_path: Path, minilm: SentenceEmbedder) -> None:
    """A summary's sentence draws on several parts of one document ("cuts energy costs by up
    to 30 percent with a 30-day trial"); the parts it matches less well rank below other
    documents' parts, so the top k alone miss them (16 of SummEdits' 22 faithful sales-email
    summaries halted through a collection before). The next k are read too, and kept only
    from the top k's documents."""
    docs = tmp_path / "letters.jsonl"
    docs.write_text("".join(
        json.dumps({"id": name, "text": "\n\n".join(f"{part} {PADDING * 3}" for part in parts)})
        + "\n" for name, parts in LETTERS.items()))
    data_dir = tmp_path / "data"
    await asyncio.to_thread(_index, data_dir, "tenant-a", "letters", docs)
    collection = Collection.open(data_dir, "tenant-a", "letters")
    assert collection.count == 12
    claims = [f"{first} {last}" for parts in LETTERS.values()
              for first in parts for last in parts if first != last]
    k = 1
    found = collection.search(minilm.embed(claims), k)
    reference = collection.search(minilm.embed(claims), 2 * k)  # holds the plain top 2k
    added = left_out = 0
    for hits, deeper in zip(found, reference, strict=True):
        plain = [h for h in deeper if h.score > 0][:2 * k]
        assert [h.id for h in hits[:k]] == [h.id for h in plain[:k]]
        documents = {h.document for h in hits[:k]}
        assert [h.id for h in hits[k:]] == [h.id for h in plain[k:] if h.document in documents]
        added += len(hits) - k
        left_out += len(plain) - len(hits)
    assert added and left_out  # both cases occur


BRIDGES = ["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Ginkgo", "Hazel", "Holly",
           "Juniper", "Larch", "Linden", "Maple", "Oak", "Olive", "Pine", "Poplar", "Rowan",
           "Spruce", "Sycamore", "Walnut", "Willow", "Yew", "Aspen"]


def _bridge_sentences(i: int) -> tuple[str, str]:
    """A true answer about the i-th bridge, in two sentences that name no bridge."""
    return f"It opened in {1930 + i}.", f"Its main span is {400 + 10 * i} metres long."


async def _bridges(tmp_path: Path, minilm: SentenceEmbedder) -> tuple[Path, list[list[bool]]]:
    """Near-identical sheets of bridges as tenant-a's collection "bridges"; per bridge, whether
    each sentence of its answer (:func:`_bridge_sentences`) alone misses its sheet."""
    docs = tmp_path / "bridges.jsonl"
    docs.write_text("".join(json.dumps({"id": name, "text": (
        f"The {name} Bridge crosses the river at {name}ford. " + " ".join(
            _bridge_sentences(i)))}) + "\n" for i, name in enumerate(BRIDGES)))
    data_dir = tmp_path / "data"
    await asyncio.to_thread(_index, data_dir, "tenant-a", "bridges", docs)
    collection = Collection.open(data_dir, "tenant-a", "bridges")
    sentences = [s for i in range(len(BRIDGES)) for s in _bridge_sentences(i)]
    found = collection.search(minilm.embed(sentences), 3, sentences)
    return data_dir, [[name not in {h.document for h in hits}
                       for hits in found[2 * i: 2 * i + 2]] for i, name in enumerate(BRIDGES)]


async def test_the_prompt_finds_what_an_answer_that_names_nothing_is_about(
        tmp_path: Path, model_cache: Path, minilm: SentenceEmbedder) -> None:
    """"It opened in 1951." names no bridge: its own search finds other bridges' sheets
    and halted a true answer. The question ("When did the Hazel Bridge open?") is searched
    once with the stream's first window, and what it finds is evidence for every window."""
    data_dir, misses = await _bridges(tmp_path, minilm)
    missed = [i for i, (first, second) in enumerate(misses) if first and second][:4]
    assert missed  # neither sentence finds its bridge's sheet: the case this is for
    settings = make_settings(tmp_path, embedder="minilm", data_dir=data_dir,
                             cache_dir=model_cache)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        for i in missed:
            name, answer = BRIDGES[i], " ".join(_bridge_sentences(i))
            frames = await stream_text(ws, name, answer, context=[],
                                       collection="bridges",
                                       prompt=f"When did the {name} Bridge open, and how "
                                              "long is it?")
            assert frames[-1]["halted"] is False, (name, frames)
            verdicts = [f for f in frames if f["type"] == "verdict"]
            assert len(verdicts) == 2 and all(v["label"] == "supported" for v in verdicts)
            assert all(v["evidence"][0]["id"] == f"{name}#0" for v in verdicts)
            # without the question, the same answer halts
            frames = await stream_text(ws, f"{name}-alone", answer, context=[],
                                       collection="bridges")
            assert frames[-1]["halted"] is True, (name, frames)


async def test_a_window_keeps_what_the_window_before_it_found(
        tmp_path: Path, model_cache: Path, minilm: SentenceEmbedder) -> None:
    """A summary's next sentence goes on about what the last one named ("It opened in
    1951." after "The Hazel Bridge crosses the river at Hazelford."): the passages the last
    window found are evidence for it too. HaluEval's news summaries through a collection
    false-halted 16.3 % before, 6.2 % after (docs/quality.md)."""
    data_dir, misses = await _bridges(tmp_path, minilm)
    missed = [i for i, (_, second) in enumerate(misses) if second][:4]
    assert missed  # the second sentence alone does not find its bridge's sheet
    settings = make_settings(tmp_path, embedder="minilm", data_dir=data_dir,
                             cache_dir=model_cache)
    async with running_server(settings) as server, open_ws(server.port) as ws:
        for i in missed:
            name = BRIDGES[i]
            text = f"The {name} Bridge crosses the river at {name}ford. {_bridge_sentences(i)[1]}"
            frames = await stream_text(ws, name, text, context=[], collection="bridges")
            assert frames[-1]["halted"] is False, (name, frames)
            verdicts = [f for f in frames if f["type"] == "verdict"]
            assert len(verdicts) >= 2 and all(v["label"] == "supported" for v in verdicts)
