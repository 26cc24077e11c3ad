"""The package's import graph: layers import downward only, no cycles, no private names across modules.

Every import counts, at module level or inside a function: a function-local import is a
dependency too, only a hidden one. docs/architecture.md describes the layers.
"""

import ast
from pathlib import Path

import drvtape

PACKAGE = Path(drvtape.__file__).parent

# Rank of each top-level part of drvtape: a module may import its own part or a lower rank.
RANK = {
    "errors": 0, "": 0,  # drvtape/__init__.py (the version)
    "schema": 1,  # the vocabulary
    "present": 2,  # the text of the vocabulary: imports only it
    "formats": 3, "store": 3,  # both sit on the vocabulary, neither on the other
    "runtime": 4, "dllhost": 4,  # driving a driver: in process, in a host process
    "analysis": 5, "replay": 5, "recorder": 5,
    "cli": 6, "pytest_plugin": 6,
    "__main__": 7,
}
SAME_RANK = {("replay", "recorder")}  # derived sessions are recorded under the hook
ANALYSIS_MAY_IMPORT = {"analysis", "errors", "schema", "present"}  # the vocabulary, never replay or the store


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(path: Path, known: dict[str, Path]):
    """(imported module, names imported from it, line) for each drvtape import in the file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "drvtape":
                    yield alias.name, (), node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "drvtape":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in known:  # `from drvtape.schema import messages`: the module itself
                    yield sub, (), node.lineno
                else:
                    yield node.module, (alias.name,), node.lineno


def part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: {target for target, _, _ in imports(p, known)} - {m} for m, p in known.items()}


def test_every_part_has_a_rank():
    assert {part(m) for m in modules()} - {"workloads"} <= RANK.keys()


def test_layers_import_downward_only():
    known = modules()
    wrong = []
    for module, path in known.items():
        for target, _, line in imports(path, known):
            a, b = part(module), part(target)
            if a == b:
                continue
            upward = RANK[b] > RANK[a] or (RANK[b] == RANK[a] and (a, b) not in SAME_RANK)
            if upward or (a == "analysis" and b not in ANALYSIS_MAY_IMPORT):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {module} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    edges = graph()
    done: set[str] = set()
    cycles = []

    def visit(module: str, stack: list[str]) -> None:
        if module in stack:
            cycles.append(" -> ".join(stack[stack.index(module):] + [module]))
            return
        if module in done:
            return
        stack.append(module)
        for target in sorted(edges.get(module, ())):
            visit(target, stack)
        stack.pop()
        done.add(module)

    for module in sorted(edges):
        visit(module, [])
    assert not cycles, "\n".join(cycles)


def test_no_private_names_imported_across_modules():
    known = modules()
    private = [f"{path.relative_to(PACKAGE.parent)}:{line}: {name} from {target}"
               for module, path in known.items() for target, names, line in imports(path, known)
               for name in names if name.startswith("_") and not name.startswith("__")]
    assert not private, "\n".join(private)
