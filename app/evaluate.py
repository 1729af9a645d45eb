"""Dev-set evaluation: run questions through the ask service and score them as ../shared/eval/README.md says."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

# Asks one question: takes a POST /api/ask body, returns the AskResponse as JSON-like data.
Asker = Callable[[dict], dict]

# The public glossaries of ../shared/external and the domain their rows get (they name none).
EXTERNAL_FILES = (("far_2101_procurement.jsonl", "procurement"),
                  ("far_part_definitions_procurement.jsonl", "procurement"),
                  ("nist_sp800-53r5_glossary_it_security.jsonl", "it"))


@dataclass
class Outcome:
    id: str
    kind: str
    question: str
    expect: list[str]
    linked: list[str]
    confident: bool
    intent: str
    passed: bool


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def by_kind(self) -> dict[str, tuple[int, int]]:
        table: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for o in self.outcomes:
            table[o.kind][0] += o.passed
            table[o.kind][1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(table.items())}

    def in_scope(self) -> float:
        scored = [o for o in self.outcomes if o.kind != "out_of_scope"]
        return sum(o.passed for o in scored) / len(scored) if scored else 0.0

    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]

    def text(self, show_misses: bool = True) -> str:
        lines = ["kind            score   passed/total"]
        for kind, (ok, total) in self.by_kind().items():
            lines.append(f"{kind:<15} {ok / total:6.3f}  {ok}/{total}")
        lines.append(f"{'in-scope':<15} {self.in_scope():6.3f}")
        oos = [o for o in self.outcomes if o.kind == "out_of_scope"]
        if oos:
            lines.append(f"{'out_of_scope':<15} {sum(o.passed for o in oos)}/{len(oos)} pass")
        if show_misses and self.misses():
            lines.append("\nmissed:")
            for o in self.misses():
                lines.append(f"- {o.id} [{o.kind}] {o.question[:90]!r}\n    expected {o.expect}; "
                             f"got {o.linked[:5]} intent={o.intent} confident={o.confident}")
        return "\n".join(lines)


def load_questions(path: Path) -> list[dict]:
    items = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
    return items


def matches(expected: str, hit: dict) -> bool:
    wanted = expected.casefold()
    return hit["term"].casefold() == wanted or any(a.casefold() == wanted for a in hit.get("aliases", []))


def score(item: dict, response: dict) -> bool:
    """The dev-set rule: expected terms among the first max(3, n+1) linked terms; out of scope links none."""
    expect = item.get("expect") or []
    terms = response.get("terms", [])
    if not expect:
        return not terms and not response.get("confident")
    window = terms[: max(3, len(expect) + 1)]
    return all(any(matches(e, h) for h in window) for e in expect)


def over_http(client: Any) -> Asker:
    """An Asker that goes through POST /api/ask of a (test) client, for checking a running service."""

    def ask(body: dict) -> dict:
        r = client.post("/api/ask", json=body)
        r.raise_for_status()
        data: dict = r.json()
        return data

    return ask


def evaluate(ask: Asker | Any, items: list[dict]) -> Report:
    """Ask every question (following `turns`) and score it; `ask` may also be an HTTP (test) client."""
    if not callable(ask):  # a client, as callers before the in-process service passed
        ask = over_http(ask)
    report = Report()
    for item in items:
        turns = item.get("turns") or [item["question"]]
        conversation_id = None
        response: dict = {}
        for text in turns:
            response = ask({"question": text, "audience": item.get("audience"), "conversation_id": conversation_id})
            conversation_id = response["conversation_id"]
        report.outcomes.append(Outcome(
            id=item.get("id", ""), kind=item.get("kind", "?"), question=item["question"], expect=item.get("expect", []),
            linked=[h["term"] for h in response.get("terms", [])], confident=response.get("confident", False),
            intent=response.get("intent", "?"), passed=score(item, response),
        ))
    return report


def glossary_with_external(glossary_dir: Path, external_dir: Path, target: Path) -> Path:
    """Copy a glossary to `target` and import the external glossaries into it, as a company would."""
    from app.interchange import Source, plan_import

    external_dir, target = Path(external_dir), Path(target)
    missing = [name for name, _ in EXTERNAL_FILES if not (external_dir / name).exists()]
    if missing:
        raise FileNotFoundError(f"missing in {external_dir}: {', '.join(missing)}")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(glossary_dir, target)
    plan = plan_import(target, [Source(external_dir / name, "jsonl", domain) for name, domain in EXTERNAL_FILES])
    plan.write()
    return target
