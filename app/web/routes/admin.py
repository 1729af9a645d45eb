"""Curator views under /admin: gaps, feedback, glossary health, reload. Locked without credentials.

Two ways in, both documented in the README: a bearer token (GLOSSARY_ADMIN_TOKEN; browsers get it once
through the sign-in form, kept in an HttpOnly cookie), or a header that the intranet's reverse proxy
sets for signed-in users (GLOSSARY_ADMIN_TRUSTED_HEADER, optionally limited to GLOSSARY_ADMIN_USERS).
"""

from __future__ import annotations

import hmac
import io
import zipfile
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from app.curation import glossary_health, group_gaps, guess_name, stub_markdown, stub_slug
from app.web.deps import ResourcesDep, SettingsDep, StateDep, StoreDep
from app.web.html import render

router = APIRouter(prefix="/admin", tags=["admin"])
COOKIE = "glossary_admin"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def curator(request: Request, settings: SettingsDep) -> str:
    """Return who is asking, or refuse: 401 without credentials, 403 with wrong ones."""
    header = settings.admin_trusted_header
    if header:
        user = request.headers.get(header, "").strip()
        if user and (not settings.admin_users or any(_same(user, u) for u in settings.admin_users)):
            return user
    token = settings.admin_token
    offered = ""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        offered = auth[7:].strip()
    elif request.cookies.get(COOKIE):
        offered = request.cookies[COOKIE]
    if token and offered and _same(offered, token):
        return "token"
    if not token and not header:
        raise HTTPException(403, "the curator views are disabled: set GLOSSARY_ADMIN_TOKEN or GLOSSARY_ADMIN_TRUSTED_HEADER")
    if offered:
        raise HTTPException(403, "wrong admin token")
    raise HTTPException(401, "curator sign-in required (Authorization: Bearer <GLOSSARY_ADMIN_TOKEN>)",
                        headers={"WWW-Authenticate": "Bearer"})


Curator = Annotated[str, Depends(curator)]


async def _from_db(fn, *args):
    """Run a store-backed computation off the event loop; a database outage is a 503, not a 500."""
    try:
        return await run_in_threadpool(fn, *args)
    except HTTPException:
        raise
    except Exception as exc:
        raise HTTPException(503, "the database is unavailable, and the curator views need it; answering still "
                                 f"works. Try again when it is back ({exc.__class__.__name__}).") from exc


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


# Sign-in for browsers (token mode) --------------------------------------------------------------
@router.get("/login", include_in_schema=False)
def login_form(request: Request) -> Response:
    return render("admin_login.html", {"nav": "admin", "error": None})


@router.post("/login", include_in_schema=False)
async def login(request: Request, settings: SettingsDep) -> Response:
    from urllib.parse import parse_qs

    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    offered = form.get("token", [""])[0].strip()
    if not settings.admin_token or not offered or not _same(offered, settings.admin_token):
        return render("admin_login.html", {"nav": "admin", "error": "That token is not right."}, status_code=403)
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(COOKIE, offered, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        path="/admin", max_age=8 * 3600)
    return response


# Views ----------------------------------------------------------------------------------------------
@router.get("", include_in_schema=False)
def admin_home(user: Curator) -> Response:
    return RedirectResponse("/admin/gaps", status_code=303)


def _gaps(resources, settings, store):
    if store is None:
        return []
    rows = store.questions(only_gaps=True, low_confidence=settings.low_confidence, limit=1000)
    return group_gaps(rows, resources.embedder)


@router.get("/gaps")
async def gaps(request: Request, user: Curator, resources: ResourcesDep, settings: SettingsDep, store: StoreDep):
    """Unanswered and low-confidence questions, grouped by similarity, with counts and last seen."""
    groups = await _from_db(_gaps, resources, settings, store)
    if _wants_html(request):
        items = [{"n": i, "group": g, "name": guess_name(g.title)} for i, g in enumerate(groups)]
        return render("admin_gaps.html", {"nav": "admin", "items": items, "user": user, "tab": "gaps"})
    return {"groups": [{"id": i, "questions": g.questions, "count": g.count, "last_seen": g.last_seen.isoformat(),
                        "suggestions": g.suggestions, "stub_url": f"/admin/gaps/{i}/stub.md"}
                       for i, g in enumerate(groups)]}


@router.get("/gaps/{number}/stub.md")
async def gap_stub(number: int, user: Curator, resources: ResourcesDep, settings: SettingsDep, store: StoreDep):
    """A draft term file for one gap group, ready for a curator to finish."""
    groups = await _from_db(_gaps, resources, settings, store)
    if not 0 <= number < len(groups):
        raise HTTPException(404, f"no gap group {number}")
    name = stub_slug(guess_name(groups[number].title))
    return Response(stub_markdown(groups[number]), media_type="text/markdown; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.md"'})


@router.get("/gaps/stubs.zip")
async def gap_stubs(user: Curator, resources: ResourcesDep, settings: SettingsDep, store: StoreDep):
    """Every gap group as a draft term file, in one zip."""
    groups = await _from_db(_gaps, resources, settings, store)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        used: set[str] = set()
        for group in groups:
            name = stub_slug(guess_name(group.title))
            while name in used:
                name += "-2"
            used.add(name)
            archive.writestr(f"{name}.md", stub_markdown(group))
    return Response(buffer.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="draft-terms.zip"'})


@router.get("/feedback")
async def feedback(request: Request, user: Curator, resources: ResourcesDep, store: StoreDep, rating: str = "down"):
    """Rated answers (down-votes by default) with the question, the answer's terms and the comment."""
    if rating not in ("up", "down", "all"):
        raise HTTPException(422, "rating must be up, down or all")
    rows = await _from_db(store.feedback, None if rating == "all" else rating) if store is not None else []
    terms = resources.glossary.terms
    items = [{"id": f.id, "rating": f.rating, "comment": f.comment, "at": f.created_at.isoformat(),
              "conversation_id": f.conversation_id, "turn": f.turn,
              "question": q.question if q else None, "intent": q.intent if q else None,
              "terms": [{"slug": s, "term": terms[s].term} for s in (q.terms if q else []) if s in terms]}
             for f, q in rows]
    if _wants_html(request):
        return render("admin_feedback.html", {"nav": "admin", "items": items, "rating": rating, "user": user,
                                              "tab": "feedback"})
    return {"rating": rating, "feedback": items}


@router.get("/health")
async def health(request: Request, user: Curator, resources: ResourcesDep, settings: SettingsDep, store: StoreDep,
                 state: StateDep):
    """`glossary check` results, stale reviews, terms never linked in answers, the most asked terms."""
    report = await _from_db(glossary_health, settings.glossary_dir, resources.glossary, store,
                                     settings.review_max_age_days)
    terms = resources.glossary.terms
    reloader = state.reloader
    data = {
        "terms": report.terms, "problems": report.problems,
        "stale": [{"slug": s, "term": t, "reviewed": d.isoformat()} for s, t, d in report.stale],
        "never_linked": [{"slug": s, "term": terms[s].term} for s in report.never_linked],
        "most_asked": [{"slug": s, "term": terms[s].term, "count": c} for s, c in report.most_asked if s in terms],
        "review_max_age_days": settings.review_max_age_days,
        "last_reload": reloader.last.as_dict() if reloader and reloader.last else None,
        "index": resources.index.manifest,
    }
    if _wants_html(request):
        return render("admin_health.html", {"nav": "admin", "data": data, "user": user, "tab": "health"})
    return data


@router.post("/reload")
async def reload(request: Request, user: Curator, state: StateDep):
    """Validate the glossary files, re-embed what changed and swap; invalid files are refused."""
    if state.reloader is None:
        raise HTTPException(503, "the glossary is still loading; try again in a moment")
    result = await run_in_threadpool(state.reloader.reload, f"reload requested by {user}")
    status = {"applied": 200, "unchanged": 200, "rejected": 422, "failed": 503}[result.status]
    if _wants_html(request):
        return render("admin_health.html", {"nav": "admin", "data": None, "reload": result.as_dict(), "user": user,
                                            "tab": "health"}, status_code=status)
    return JSONResponse(result.as_dict(), status)
