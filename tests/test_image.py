"""The container image, built with podman and run the way it is deployed (scripts/test-image)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "test-image"
# The script stops itself at its own limit (and cleans up); this one only guards against a hang.
LIMIT = 900

pytestmark = pytest.mark.image


def test_image_builds_starts_and_keeps_its_data():
    if not shutil.which("podman"):
        problem = "podman is missing (scripts/test-deps-image installs it with apt as root)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the image test cannot run in CI: {problem}")
        pytest.skip(problem)
    process = subprocess.Popen([sys.executable, str(SCRIPT), "--timeout", str(LIMIT)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=LIMIT + 60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)  # the script removes its container and volume
        output, _ = process.communicate(timeout=60)
        pytest.fail(f"scripts/test-image did not stop at its own limit:\n{output[-4000:]}")
    print(output)
    assert process.returncode == 0, output[-6000:]
    assert "PASS" in output.splitlines()[-1]
