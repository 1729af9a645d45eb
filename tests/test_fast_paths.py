"""Fast paths that must give exactly what the straightforward code gives (they exist for speed only)."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
import yaml

from app.glossary.loader import load_policy, make_renderer, parse_sections, render_section, split_front_matter
from app.search.spotter import _normalize_chars, normalize_with_map

SHIPPED = Path(__file__).parent.parent / "glossary"


@pytest.mark.parametrize("text", ["", "   ", "SSO", "  What's an SSO/SAML set-up?  ", "a&b -- c", "İstanbul IT",
                                  "ΣΑΣ ΟΔΟΣ", "straße STRASSE ẞ", "K8s 2FA", "x\n\ty", "😀 emoji 😀", "ǅ ǆ Ǆ"])
def test_normalize_by_word_runs_equals_character_by_character(text):
    assert normalize_with_map(text) == _normalize_chars(text)


def test_normalize_equals_on_random_text():
    alphabet = string.ascii_letters + string.digits + " &-_/.,;:!?'\"()[]{}\n\t" + "éÉßẞİıΣσςÅKµ€—–…😀ǅǄ"
    rnd = random.Random(8)
    for _ in range(5000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40)))
        assert normalize_with_map(text) == _normalize_chars(text), repr(text)


def test_sections_render_as_jinja_renders_them():
    org = yaml.safe_load((SHIPPED / "org.yaml").read_text())
    env = make_renderer(org)
    policy, _ = load_policy(SHIPPED, org, env)
    texts = {rule_id: rule.text for rule_id, rule in policy.rules.items()}  # what {{ rule('id') }} renders to
    checked = 0
    for path in sorted((SHIPPED / "terms").glob("*.md")):
        _, body, body_line = split_front_matter(path.read_text())
        sections, _ = parse_sections(body, body_line)
        for key, (raw, line) in sections.items():
            rendered, problems = render_section(env, raw, line, path.name, key, texts)
            assert not problems
            assert rendered == make_renderer(org).from_string(raw).render(rule=texts.get), (path.name, key)
            checked += 1
    assert checked > 1000


@pytest.mark.parametrize("raw", ["Costs {{ org.thresholds.three_quotes | money }}.\r\nNext line",
                                 "{# a comment #} and {{ org.thresholds.three_quotes }}", "{ braces } only", ""])
def test_text_jinja_would_change_still_goes_through_jinja(raw):
    org = yaml.safe_load((SHIPPED / "org.yaml").read_text())
    rendered, problems = render_section(make_renderer(org), raw, 1, "x.md", "section")
    assert not problems and rendered == make_renderer(org).from_string(raw).render()
