"""The README is part of the product: every setting and every CLI command is documented there."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import cli
from app.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name):
    assert f"GLOSSARY_{name.upper()}" in README, f"GLOSSARY_{name.upper()} is missing from the README"


@pytest.mark.parametrize("command", sorted(c.name or c.callback.__name__ for c in cli.registered_commands))
def test_every_cli_command_is_documented(command):
    assert f"glossary {command}" in README, f"`glossary {command}` is missing from the README"
