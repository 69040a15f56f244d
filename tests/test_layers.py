"""The floors of docs/architecture.md, checked by the import-linter contract in
pyproject.toml: an app imports only from its own floor or the floors below."""

import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_code(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "tashil",
        tmp_path / "tashil",
        ignore=shutil.ignore_patterns("static", "templates", "__pycache__", "*.pyc"),
    )
    return tmp_path


def test_the_code_keeps_to_its_floors():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_from_core_breaks_the_contract(tmp_path):
    copy = copy_of_the_code(tmp_path)
    (copy / "tashil" / "core" / "upward.py").write_text(
        "def visible(user):\n"
        "    from tashil.accounts.scopes import scope_of\n\n"
        "    return scope_of(user)\n"
    )
    result = lint_imports(copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "tashil.core.upward -> tashil.accounts.scopes" in result.stdout


def test_an_import_between_independent_apps_breaks_the_contract(tmp_path):
    copy = copy_of_the_code(tmp_path)
    (copy / "tashil" / "demo" / "sideways.py").write_text("from tashil.api import urls\n")
    result = lint_imports(copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "tashil.demo.sideways -> tashil.api.urls" in result.stdout


def import_cycles(imports: dict[str, set[str]]) -> list[set[str]]:
    """The groups of modules that import each other, directly or round a
    loop (strongly connected components of more than one module)."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []
    for root in imports:
        if root in index:
            continue
        work = [(root, iter(imports.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(imports.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)
    return groups


def test_the_cycle_finder_finds_loops_and_only_loops():
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert sorted(map(sorted, import_cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}))) == [
        ["a", "b"],
        ["c", "d"],
    ]


def test_no_two_modules_import_each_other():
    # Imports inside functions count too: moving an import into a function
    # hides a cycle from Python's import order, not from the design.
    graph = grimp.build_graph("tashil")
    imports = {
        module: {
            m for m in graph.find_modules_directly_imported_by(module) if ".migrations" not in m
        }
        for module in graph.modules
        if ".migrations" not in module
    }
    assert import_cycles(imports) == []
