"""The code stays clean: ruff and mypy with the configuration in pyproject.toml, and no tangled function."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parent.parent
MAX_COMPLEXITY = 20  # cyclomatic complexity (radon) of any one function in app/


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False)


def test_ruff_finds_nothing():
    result = _run("ruff", "check", "--no-cache", "app", "tests", "bench", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing():
    result = _run("mypy")  # files and options come from pyproject.toml (its cache, .mypy_cache, is ignored by git)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_function_in_app_is_too_complex():
    too_complex = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for block in cc_visit(path.read_text(encoding="utf-8")):
            for item in [block, *getattr(block, "methods", [])]:
                if item.complexity > MAX_COMPLEXITY and not hasattr(item, "methods"):
                    too_complex.append(f"{path.relative_to(ROOT)}:{item.lineno} {item.name} ({item.complexity})")
    assert not too_complex, "split these into steps: " + ", ".join(too_complex)
