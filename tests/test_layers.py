"""The floors of docs/architecture.md, checked by the import-linter contract in
pyproject.toml: an app imports only from its own floor or the floors below."""

import shutil
import subprocess
import sys
from pathlib import Path

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
