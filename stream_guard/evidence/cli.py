"""``stream-guard index ...``: build, list, remove and query evidence collections.

The commands write the same files the server reads; a running server picks a change up at its
next poll (or on SIGHUP), so collections are managed without restarting it.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from typing import Any

from stream_guard.config import NAME_RULE, Settings, SettingsError, load_settings
from stream_guard.evidence.ingest import read_paths
from stream_guard.evidence.reader import Collection, UnknownCollectionError
from stream_guard.evidence.store import (
    INDEX_FILE,
    DamagedCollectionError,
    StoreError,
    UnreadableCollectionError,
    VersionInfo,
    add_documents,
    collection_dir,
    remove_collection,
    scan_collections,
    vectors_problem,
    verify_vectors,
    version_files_problem,
)
from stream_guard.exceptions import GuardError
from stream_guard.guard.auth import DEFAULT_TENANT
from stream_guard.models.embedder import SentenceEmbedder, load_embedder


def add_index_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``index add|ls|rm|search``; each sets ``func(args) -> exit code``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="TOML settings file (else STREAM_GUARD_CONFIG)")
    common.add_argument("--data-dir", help="where collections live (overrides the settings)")
    common.add_argument("--tenant", default=None,
                        help=f"tenant owning the collection (default: {DEFAULT_TENANT})")

    index = subparsers.add_parser("index", help="manage evidence collections")
    commands = index.add_subparsers(dest="index_command", required=True, metavar="COMMAND")

    add = commands.add_parser(
        "add", parents=[common], help="ingest files or folders",
        description="Add documents to a collection (creating it). A document's id is its path "
        "relative to the PATH named: below a folder, the path under that folder "
        "(docs/ holding policies/refund.md gives policies/refund.md); a file named itself, its "
        "file name (refund.md); a JSONL record, its \"id\" field, else that name and its line "
        "(kb.jsonl:12). Adding a document whose id is in the collection replaces it, so name "
        "the same folder (from wherever it now lies) to update it, with --sync to remove the "
        "documents of files deleted or renamed since. Hidden files and folders "
        "(.git, .venv, ...) inside a folder are left out; name one to add it.")
    add.add_argument("--collection", required=True, help=f"collection name ({NAME_RULE})")
    add.add_argument("paths", nargs="+", metavar="PATH", help=".txt, .md, .jsonl or folders")
    add.add_argument("--sync", action="store_true",
                     help="make the collection hold exactly the documents these paths hold now: "
                     "documents it holds that are not among them (files since deleted, "
                     "renamed or emptied) are removed. Nothing is removed when a file could "
                     "not be read")
    add.add_argument("--no-progress", action="store_true", help="no progress output")
    add.set_defaults(func=_cmd_add)

    ls = commands.add_parser("ls", parents=[common], help="list collections")
    ls.add_argument("--verify", action="store_true",
                    help="also read every vector of each collection, its vectors.npy and its "
                    "index's copy, and check them against the checksum recorded when the "
                    "version was published (slower: a whole read of each collection)")
    ls.set_defaults(func=_cmd_ls)

    rm = commands.add_parser("rm", parents=[common], help="delete a collection")
    rm.add_argument("--collection", required=True, help="collection to delete")
    rm.set_defaults(func=_cmd_rm)

    search = commands.add_parser("search", parents=[common], help="query a collection")
    search.add_argument("--collection", required=True, help="collection to search")
    search.add_argument("query", type=_query, help="text to find evidence for")
    search.add_argument("-k", type=_positive, default=None,
                        help="results (default: evidence_top_k)")
    search.set_defaults(func=_cmd_search)


def _query(text: str) -> str:
    """A query with something to find: an empty one matched three chunks at random."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the query is empty")
    return text


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of results")
    return value


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config, data_dir=args.data_dir)


def _embedder(settings: Settings) -> SentenceEmbedder:
    """The embedder collections are built and searched with; a :class:`SettingsError` naming
    the setting when there is none or it will not load."""
    if settings.embedder == "none":
        raise SettingsError("collections need an embedder, and embedder (STREAM_GUARD_EMBEDDER) "
                            "is 'none': set it to minilm or a sentence-embedding model directory")
    try:
        return load_embedder(settings.embedder, **settings.model_runtime())
    except (GuardError, OSError) as exc:  # a model directory that holds no usable model
        raise SettingsError(f"collections need an embedder, and embedder "
                            f"(STREAM_GUARD_EMBEDDER) {settings.embedder!r} cannot be loaded: "
                            f"{exc}") from None


def _fail(message: str) -> int:
    print(f"stream-guard index: {message}", file=sys.stderr)
    return 2


def _cmd_add(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
        tenant = _tenant(args)
        # the names first: a bad one was refused after every file had been read (a README walk)
        cdir = collection_dir(settings.data_dir, tenant, args.collection)
        report = read_paths(args.paths)
        for error in report.errors:
            print(f"skipped {error}", file=sys.stderr)
        if report.skipped_files:
            print(f"ignored {len(report.skipped_files)} file(s) of other types "
                  f"(e.g. {report.skipped_files[0]})", file=sys.stderr)
        if report.hidden:
            print(f"ignored {len(report.hidden)} hidden file(s) or folder(s) (e.g. "
                  f"{report.hidden[0]}); name one to add it", file=sys.stderr)
        if report.not_files:
            print(f"ignored {len(report.not_files)} link(s) to folders or special file(s) "
                  f"(e.g. {report.not_files[0]}); name a linked folder to add it",
                  file=sys.stderr)
        if report.empty:
            kept = "" if args.sync else ("; a document added from one before stays (--sync "
                                         "removes it)")
            print(f"ignored {len(report.empty)} empty file(s) or record(s) "
                  f"(e.g. {report.empty[0]}){kept}",
                  file=sys.stderr)
        sync = args.sync and not report.errors
        if not report.documents and not (  # synced to none, every document it holds goes
                sync and VersionInfo.read(cdir) is not None):
            return _fail("no documents to add")
        if args.sync and report.errors:
            print("--sync removes nothing this time: some files could not be read (above)",
                  file=sys.stderr)
        result = add_documents(settings.data_dir, tenant, args.collection, report.documents,
                               _embedder(settings), index_flat_max=settings.index_flat_max,
                               progress=not args.no_progress, sync=sync)
    except (SettingsError, StoreError) as exc:
        return _fail(str(exc))
    unchanged = (f", {result.documents_unchanged} unchanged" if result.documents_unchanged
                 else "")
    removed = f", {result.documents_removed} removed" if sync else ""
    print(f"{tenant}/{args.collection}: {len(report.documents)} document(s), "
          f"+{result.chunks_added} chunk(s), {result.duplicates} duplicate(s) skipped, "
          f"{result.documents_replaced} document(s) replaced{unchanged}{removed}; "
          f"{result.total_chunks} chunk(s) in version {result.version}")
    if result.resumed:
        print(f"note: {result.resumed} chunk(s) were embedded by an earlier add of this "
              "collection that stopped before it finished: their vectors were taken, not "
              "embedded again", file=sys.stderr)
    if result.repaired is not None:
        print(f"note: the live version's files were damaged ({result.repaired}): version "
              f"{result.version} was built again from {result.rebuilt_from}", file=sys.stderr)
    for new, old in result.namesakes:
        print(f"note: {new!r} was added beside {old!r}, which stays: a document's id is its "
              "path below the folder named, or a file's name when the file is named itself; "
              f"to replace {old!r}, add its folder again, and to drop {new!r}, remove it "
              "with --sync, which keeps only the documents of the paths given",
              file=sys.stderr)
    if report.errors:
        print("some files or lines had errors (above)",
              file=sys.stderr)
        return 1
    return 0


def _cmd_ls(args: argparse.Namespace) -> int:
    """One line per collection; a damaged one is named on stderr (exit status 1), and the rest
    are listed still."""
    try:
        settings = _settings(args)
        rows = scan_collections(settings.data_dir, args.tenant)
    except (SettingsError, StoreError) as exc:
        return _fail(str(exc))
    if not rows:
        print("no collections", file=sys.stderr)
    damaged = 0
    for tenant, name, info in rows:
        cdir = collection_dir(settings.data_dir, tenant, name)
        problem = (version_files_problem(cdir, info) if isinstance(info, VersionInfo)
                   else str(info))
        if isinstance(info, VersionInfo) and problem is None:
            print(f"{tenant}/{name}\t{info.count} chunk(s)\t{info.index}\tv{info.version}\t"
                  f"{info.embedder}")
            lost = vectors_problem(cdir, info)
            if lost is not None:  # served: the index is whole; an add builds them again
                damaged += 1
                print(f"stream-guard index: collection {tenant}/{name}: {lost}: served, and the "
                      f"next `index add` to it builds its vectors again", file=sys.stderr)
            elif args.verify:
                for found in verify_vectors(cdir, info):
                    damaged += 1
                    print(f"stream-guard index: collection {tenant}/{name}: {found}: served "
                          "as it is until the next `index add` to it, which builds it again",
                          file=sys.stderr)
            continue
        damaged += 1
        if isinstance(info, UnreadableCollectionError):  # its message says what to check
            print(f"stream-guard index: {problem}; not served", file=sys.stderr)
            continue
        where = "" if isinstance(info, DamagedCollectionError) else f"collection {tenant}/{name}: "
        rebuilt = ("the next `index add` to it builds its index again; or restore it"
                   if problem and INDEX_FILE in problem else "restore it")
        print(f"stream-guard index: {where}{problem}: not served; {rebuilt}, or remove the "
              f"collection (stream-guard index rm --tenant {tenant} --collection {name}) and "
              "add its documents again", file=sys.stderr)
    return 1 if damaged else 0


def _cmd_rm(args: argparse.Namespace) -> int:
    tenant = _tenant(args)
    try:
        removed = remove_collection(_settings(args).data_dir, tenant, args.collection)
    except (SettingsError, StoreError) as exc:
        return _fail(str(exc))
    if not removed:
        return _fail(f"no collection {tenant}/{args.collection}")
    print(f"removed {tenant}/{args.collection}")
    return 0


def _tenant(args: argparse.Namespace) -> str:
    """The ``--tenant`` given, else the default one; an empty one is a name like any other,
    refused by the store (an unset ``"$TENANT"`` is not the default tenant: a review)."""
    return DEFAULT_TENANT if args.tenant is None else str(args.tenant)


def _open(settings: Settings, tenant: str, name: str) -> Collection:
    """The collection's live version; a damaged file of it is a :class:`StoreError`."""
    try:
        return Collection.open(settings.data_dir, tenant, name)
    except (sqlite3.Error, OSError, RuntimeError, MemoryError) as exc:  # faiss's read errors
        # (MemoryError: an index whose size field is garbled)
        raise StoreError(f"collection {tenant}/{name} cannot be read ({type(exc).__name__}: "
                         f"{exc}); remove it (stream-guard index rm --tenant {tenant} "
                         f"--collection {name}) and add its documents again") from None


def _cmd_search(args: argparse.Namespace) -> int:
    tenant = _tenant(args)
    try:
        settings = _settings(args)
        collection = _open(settings, tenant, args.collection)
        embedder = _embedder(settings)
        if not collection.info.built_with(embedder):
            return _fail(f"{tenant}/{args.collection} was built with {collection.info.embedder}"
                         f", the configured embedder is "
                         f"{collection.info.embedder_named(embedder)}")
        hits = collection.search(embedder.embed([args.query]), args.k or settings.evidence_top_k,
                                 [args.query])
    except (SettingsError, StoreError) as exc:
        return _fail(str(exc))
    except UnknownCollectionError:
        return _fail(f"no collection {tenant}/{args.collection}")
    for ev in hits[0]:
        text = " ".join(ev.text.split())
        print(f"{ev.score:.3f}\t{ev.id}\t{ev.source}\n\t{text[:300]}")
    return 0
