"""The anchor: a naive glossary service, as a competent engineer would write it in an afternoon.

FastAPI + sentence-transformers + FAISS flat over "name: definition" of each term; every question
is embedded and the nearest term's definition is returned. No fusion, no lexical signals, no
confidence, no intents, no conversation. bench/run.py starts it beside ours, on the same questions,
and prints our latency, throughput and dev-set quality as ratios to it.

    GLOSSARY_GLOSSARY_DIR=glossary .venv/bin/python -m uvicorn naive:app --app-dir bench --port 8001
"""

from __future__ import annotations

import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import faiss
import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import Settings  # noqa: E402  (only to find the glossary and the bundled model)
from app.glossary import load_glossary  # noqa: E402

STATE: dict = {}


class Ask(BaseModel):
    question: str
    audience: str | None = None
    conversation_id: str | None = None


@asynccontextmanager
async def lifespan(app: FastAPI):
    from sentence_transformers import SentenceTransformer

    settings = Settings(glossary_dir=Path(os.environ.get("GLOSSARY_GLOSSARY_DIR", "glossary")))
    terms = list(load_glossary(settings.glossary_dir).glossary.terms.values())
    model = SentenceTransformer(str(settings.resolved_model_path()), device="cpu")
    texts = [f"{t.term}: {t.section('definition')}" for t in terms]
    vectors = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    STATE.update(model=model, index=index, terms=terms)
    yield
    STATE.clear()


app = FastAPI(lifespan=lifespan)


@app.get("/readyz")
def ready() -> dict:
    return {"ready": bool(STATE)}


@app.post("/api/ask")
def ask(body: Ask) -> dict:
    vector = STATE["model"].encode([body.question], normalize_embeddings=True, convert_to_numpy=True)
    scores, ids = STATE["index"].search(vector.astype(np.float32), 3)
    hits = [STATE["terms"][i] for i in ids[0] if i >= 0]
    top = hits[0]
    return {"conversation_id": None, "intent": "define", "confident": True, "confidence": float(scores[0][0]),
            "answer_markdown": f"**{top.term}** — {top.section('definition')}",
            "terms": [{"slug": t.slug, "term": t.term, "aliases": t.aliases} for t in hits]}
