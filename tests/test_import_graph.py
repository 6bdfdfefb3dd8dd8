"""The import graph of ``stream_guard`` has no cycles, between packages or between modules.

A cycle means two modules can only be understood (and changed, and imported) together, and it is
how a layer starts reaching back up into the layers built on it (docs/architecture.md). Read from
the source with ``ast``, so lazy imports inside functions and ``TYPE_CHECKING`` imports count too:
they are dependencies all the same.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "stream_guard"

# The layers with no I/O: the protocol, the rules of a connection and of its streams, the
# limits and credentials, the text measurements (docs/architecture.md).
PURE_LAYERS = ("protocol", "oversight", "text", "scores", "guard")
# None left; a cycle that must be tolerated for a while is listed here with why.
KNOWN_MODULE_CYCLES: list[set[str]] = []


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _graph() -> dict[str, set[str]]:
    """Module -> the stream_guard modules it imports. ``from package import module`` is an
    edge to that module, not to the package (whose ``__init__`` is all it would add)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module is not None:
                assert node.level == 0, f"{name}: relative import"
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    targets.append(sub if sub in modules else node.module)
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _layer(module: str) -> str:
    """The package (or top-level module) a module belongs to: ``stream_guard.server.app`` ->
    ``server``; the package's own ``__init__`` is ``stream_guard``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_no_import_cycles_between_modules() -> None:
    assert sorted(map(sorted, _cycles(_graph()))) == sorted(map(sorted, KNOWN_MODULE_CYCLES))


def test_no_import_cycles_between_packages() -> None:
    layers: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        layer = _layer(module)
        layers.setdefault(layer, set()).update(
            _layer(t) for t in targets if _layer(t) != layer)
    assert _cycles(layers) == []


def test_the_pure_layers_import_no_io_layer() -> None:
    """The protocol and its rules stay socket-free: they may not import the server, the
    scorer, the stores or the client."""
    io_layers = {"server", "scoring", "state", "evidence", "models", "client", "eval", "train"}
    for module, targets in _graph().items():
        if _layer(module) in PURE_LAYERS:
            assert not {_layer(t) for t in targets} & io_layers, module


def _loaded_by(modules: list[str]) -> list[str]:
    """Every module a fresh interpreter holds after importing ``modules``."""
    code = ("import sys\n" + "".join(f"import {name}\n" for name in modules)
            + "print('\\n'.join(sorted(sys.modules)))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=PACKAGE.parent).stdout.split()


def test_importing_the_pure_layers_loads_no_io_layer() -> None:
    """What importing them really loads, package ``__init__`` files included: the static graph
    above saw guard.limits import state.bucket, a module with no I/O, while importing it ran
    the state package's ``__init__``, which loads the stores, the settings and asyncio."""
    loaded = _loaded_by([name for name in _modules() if _layer(name) in PURE_LAYERS])
    io_layers = {"server", "scoring", "state", "evidence", "models", "client", "eval", "train",
                 "config"}
    assert sorted(m for m in loaded if m.startswith("stream_guard.")
                  and _layer(m) in io_layers) == []
    assert "asyncio" not in loaded


def test_a_command_that_loads_no_model_imports_no_graph_library() -> None:
    """``onnx`` (and ``ml_dtypes`` under it) takes about a second to import on a 2-core host;
    it is imported where a model is loaded or built, so ``stream-guard --help``, the ticket and
    evidence commands and a server with no model start without it (and without torch)."""
    loaded = _loaded_by(["stream_guard.cli", "stream_guard.server.app"])
    assert {m.split(".")[0] for m in loaded} & {"onnx", "ml_dtypes", "torch"} == set()
