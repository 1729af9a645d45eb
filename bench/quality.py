"""Dev-set quality per retrieval mode, so that speed and quality are always read together.

* dense / BM25 / fused *ranking only*: Retriever.rank(mode=...) scored with the dev-set rule (the
  expected names among the first max(3, n+1) ranked terms, a name or alias matching), on the
  in-scope questions that are not follow-ups (a bare ranking has no confidence, so out-of-scope
  questions cannot be scored, and follow-ups need the conversation).
* fused *through the API*: exactly `glossary eval` (here over POST /api/ask of a TestClient), every
  kind, with the serving query embedder and with the sentence-transformers reference.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path

from app.evaluate import Report, evaluate, matches, over_http

MODES = ("dense", "bm25", "fused")


def rank_only(items: list[dict], glossary, retriever, mode: str) -> dict:
    """Score Retriever.rank(mode) directly with the dev-set rule; per kind and overall."""
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in items:
        expect = item.get("expect") or []
        if not expect or item.get("kind") == "followup":
            continue
        window = retriever.rank(item["question"], mode=mode, limit=10).slugs()[: max(3, len(expect) + 1)]
        hits = [{"term": glossary.terms[s].term, "aliases": glossary.terms[s].aliases} for s in window]
        ok = all(any(matches(e, h) for h in hits) for e in expect)
        per_kind[item["kind"]][0] += ok
        per_kind[item["kind"]][1] += 1
    passed = sum(v[0] for v in per_kind.values())
    total = sum(v[1] for v in per_kind.values())
    return {"score": passed / total if total else 0.0, "passed": passed, "total": total,
            "by_kind": {k: tuple(v) for k, v in sorted(per_kind.items())}}


def through_api(items: list[dict], settings, embedder=None) -> Report:
    """`glossary eval`: every question through POST /api/ask (TestClient), follow-ups included."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    with tempfile.TemporaryDirectory(prefix="bench-eval-db-") as tmp:
        s = settings.model_copy(update={"database_url": f"sqlite:///{Path(tmp) / 'eval.db'}"})
        with TestClient(create_app(s, embedder=embedder)) as client:
            return evaluate(over_http(client), items)


def report_dict(report: Report) -> dict:
    scored = [o for o in report.outcomes if o.kind != "out_of_scope"]
    oos = [o for o in report.outcomes if o.kind == "out_of_scope"]
    return {"in_scope": report.in_scope(), "in_scope_passed": sum(o.passed for o in scored),
            "in_scope_total": len(scored), "out_of_scope_passed": sum(o.passed for o in oos),
            "out_of_scope_total": len(oos), "by_kind": report.by_kind()}
