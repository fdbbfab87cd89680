"""The one-way arrows of the architecture, checked over every import of kit (inside functions too).

data loading and the parameter spec -> engine -> presentation -> surfaces; nothing imports a surface
but another surface, and no two modules import each other, directly or through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parent.parent / "kit"

# The map. README's "Layout" section shows the same table; every module of kit must be on it.
LAYERS: dict[str, tuple[str, ...]] = {
    "base": ("kit", "kit.errors", "kit.paths", "kit.procs", "kit.fmt", "kit.params"),
    "data": ("kit.catalog", "kit.prices", "kit.scenario_io"),
    "engine": (
        "kit.capacity",
        "kit.fleet",
        "kit.residency",
        "kit.router",
        "kit.cost",
        "kit.axes",
        "kit.results",
        "kit.recommend",
        "kit.uncertainty",
        "kit.evaluate",
        "kit.local",
        "kit.live",
    ),
    "presentation": ("kit.style", "kit.charts", "kit.report", "kit.widgets", "kit.lesson"),
    "surface": ("kit.app", "kit.serve", "kit.voila_app", "kit.notebooks", "kit.runs", "kit.cli", "kit.__main__"),
}
ORDER = list(LAYERS)


def module_name(path: Path) -> str:
    """Return the dotted module name of a file under kit/."""
    parts = path.relative_to(KIT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str | None:
    """Return the layer of a module (a package's submodules share the package's layer)."""
    for layer, names in LAYERS.items():
        if any(module == n or (n != "kit" and module.startswith(n + ".")) for n in names):
            return layer
    return None


def kit_imports(source: str, importer: str = "") -> list[tuple[str, int]]:
    """Return every kit module a source imports (anywhere, functions included), with its line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "kit"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "kit":
            if node.module == "kit":  # from kit import charts, report
                found += [(f"kit.{a.name}", node.lineno) for a in node.names]
            else:
                found.append((node.module, node.lineno))
    return found


def violations(sources: dict[str, str]) -> list[str]:
    """Return every import that points up the layers, and every import cycle, in ``sources`` (module -> text)."""
    problems, graph = [], {}
    for module, source in sources.items():
        own = layer_of(module)
        if own is None:
            problems.append(f"{module}: not on the layer map (add it to LAYERS and README's layout)")
            continue
        graph[module] = set()
        for target, line in kit_imports(source, module):
            target_layer = layer_of(target)
            if target_layer is None:
                problems.append(f"{module}:{line} imports {target}, which is not on the layer map")
            elif ORDER.index(target_layer) > ORDER.index(own):
                problems.append(f"{module}:{line} ({own}) imports {target} ({target_layer}): arrows point one way")
            if target != module and target in sources:
                graph[module].add(target)
    problems += [f"import cycle: {' -> '.join(c)}" for c in cycles(graph)]
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return one cycle per strongly connected group of modules that import each other."""
    out, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                out.append(path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return out


def kit_sources() -> dict[str, str]:
    """Return the source of every module of kit by dotted name."""
    return {module_name(p): p.read_text(encoding="utf-8") for p in sorted(KIT.rglob("*.py"))}


def test_every_import_follows_the_layers():
    assert violations(kit_sources()) == []


@pytest.mark.parametrize(
    "importer, target",
    [
        ("kit.cost", "import kit.app"),  # engine -> surface
        ("kit.catalog", "from kit import recommend"),  # data -> engine
        ("kit.charts", "from kit.cli import main"),  # presentation -> surface
        ("kit.params", "from kit.lesson.figures import table"),  # base -> a presentation submodule
    ],
)
def test_an_upward_import_is_caught_even_inside_a_function(importer, target):
    sources = kit_sources()
    before = violations(sources)
    sources[importer] += f"\n\ndef _probe():\n    {target}\n"
    found = [v for v in violations(sources) if v not in before and not v.startswith("import cycle:")]
    assert len(found) == 1 and importer in found[0] and "arrows point one way" in found[0], found


def test_a_cycle_is_caught():
    sources = kit_sources()
    before = violations(sources)
    sources["kit.capacity"] += "\n\ndef _probe():\n    from kit.cost import costs\n"  # cost -> ... -> capacity
    found = [v for v in violations(sources) if v not in before]
    assert any(f.startswith("import cycle:") and "kit.capacity" in f and "kit.cost" in f for f in found), found


def test_a_module_off_the_map_is_caught():
    sources = kit_sources()
    before = violations(sources)
    sources["kit.newthing"] = "import pandas\n"
    assert [v for v in violations(sources) if v not in before] == [
        "kit.newthing: not on the layer map (add it to LAYERS and README's layout)"
    ]


def test_imports_inside_functions_say_why():
    """An import inside a function is allowed only to delay a heavy optional package, said at the line."""
    bare = []
    for module, source in kit_sources().items():
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)) and "# delayed" not in lines[inner.lineno - 1]:
                        bare.append(f"{module}:{inner.lineno}: {lines[inner.lineno - 1].strip()}")
    assert bare == [], "imports inside functions without a '# delayed: why' comment:\n" + "\n".join(sorted(set(bare)))


def test_readme_layout_matches_the_map():
    readme = (KIT.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    for layer, names in LAYERS.items():
        assert layer in section, f"README's layout does not name the {layer} layer"
        for name in names:
            short = name.split(".")[-1]
            if name != "kit":
                assert short in section, f"README's layout does not list {short} ({layer})"


def test_importing_the_kit_first_keeps_jsonschemas_iri_grammars_out():
    """kit/__init__.py: a kernel, papermill worker or Voila server that imports the kit before Altair, nbformat or
    Voila does not build jsonschema's IRI grammars (about 2 CPU-seconds each); jsonschema still validates."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import kit.lesson, kit.app, kit.runs, kit.voila_app, nbformat, papermill\n"
        "import jsonschema\n"
        "checker = jsonschema.Draft7Validator.FORMAT_CHECKER\n"
        "jsonschema.validate('2026-11-28', {'format': 'date'}, format_checker=checker)\n"
        "try:\n"
        "    jsonschema.validate('not a date', {'format': 'date'}, format_checker=checker)\n"
        "except jsonschema.ValidationError:\n"
        "    print('date checked')\n"
        "print(sorted(m for m in sys.modules if m.startswith(('rfc3987_syntax', 'lark'))))\n"
        "print(sys.modules['rfc3987_syntax'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=KIT.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == ["date checked", "['rfc3987_syntax']", "None"], out.stdout
