"""Curator views under /admin: gaps, feedback, glossary health, reload. Locked without credentials.

Two ways in, both documented in the README: a bearer token (GLOSSARY_ADMIN_TOKEN; browsers sign in
once with it through the form and get a random, signed, expiring session cookie, never the token),
or a header that the intranet's reverse proxy sets for signed-in users (GLOSSARY_ADMIN_TRUSTED_HEADER,
optionally limited to GLOSSARY_ADMIN_USERS). Failed tries back off per client (app.web.ratelimit.AuthThrottle).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time
import zipfile
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from app.curation import glossary_health, group_gaps, guess_name, stub_markdown, stub_slug
from app.web import ratelimit
from app.web.deps import ResourcesDep, SettingsDep, StateDep, StoreDep
from app.web.html import render

router = APIRouter(prefix="/admin", tags=["admin"])
COOKIE = "glossary_admin"
SESSION_SECONDS = 8 * 3600


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# Sessions: "<expiry>.<nonce>.<signature>", signed with a key derived from the admin token, so every
# replica accepts them, and changing the token ends them all. Logout revokes the nonce here.
def _session_key(token: str) -> bytes:
    return hashlib.sha256(b"glossary admin session\0" + token.encode()).digest()


def new_session(token: str, now: float | None = None) -> str:
    payload = f"{int((now or time.time()) + SESSION_SECONDS)}.{secrets.token_urlsafe(18)}"
    signature = hmac.new(_session_key(token), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def session_nonce(value: str, token: str, revoked: dict, now: float | None = None) -> str | None:
    """The session's nonce when `value` is a live session signed for `token`, else None."""
    expiry, _, rest = value.partition(".")
    nonce, _, signature = rest.partition(".")
    if not (expiry.isdigit() and nonce and signature and token):
        return None
    expected = hmac.new(_session_key(token), f"{expiry}.{nonce}".encode(), hashlib.sha256).hexdigest()
    if not _same(signature, expected) or int(expiry) <= (now or time.time()) or nonce in revoked:
        return None
    return nonce


def _revoke(request: Request, value: str) -> None:
    revoked: dict = request.app.state.__dict__.setdefault("admin_revoked", {})
    now = time.time()
    for nonce in [n for n, until in revoked.items() if until <= now]:
        del revoked[nonce]
    nonce = session_nonce(value, request.app.state.settings.admin_token, revoked)
    if nonce:
        revoked[nonce] = int(value.partition(".")[0])


def _client(request: Request) -> str:
    settings = request.app.state.settings
    return ratelimit.client_key(request.scope, settings.rate_limit_client_header, settings.trusted_proxies)


def _throttled(request: Request) -> None:
    """Refuse (429) a client that is waiting out its back-off after failed sign-ins."""
    wait = request.app.state.auth_throttle.wait(_client(request))
    if wait > 0:
        seconds = max(1, int(wait + 0.999))
        raise HTTPException(429, f"too many failed sign-ins; try again in {seconds} s",
                            headers={"Retry-After": str(seconds)})


def curator(request: Request) -> str:
    """Return who is asking, or refuse: 401 without credentials, 403 with wrong ones, 429 while backing off."""
    settings = request.app.state.settings
    header = settings.admin_trusted_header
    user = _trusted_user(request, header, settings.admin_users) if header else None
    if user:
        return user
    token = settings.admin_token
    auth = request.headers.get("authorization", "")
    bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    cookie = "" if bearer else request.cookies.get(COOKIE, "")
    if (bearer or cookie) and token and _token_accepted(request, token, bearer, cookie):
        return "token"
    raise _refusal(token, header, bearer, cookie)


def _trusted_user(request: Request, header: str, allowed: list[str]) -> str | None:
    """The user the trusted proxy header names, when it is sent once and the user is allowed."""
    values = request.headers.getlist(header)
    if len(values) > 1 or any("," in v for v in values):
        # A proxy that appends to a client's header would let the client choose who it is.
        raise HTTPException(400, f"{header} was sent more than once; the proxy must replace it, not append")
    user = values[0].strip() if values else ""
    if user and (not allowed or any(_same(user, u) for u in allowed)):
        return user
    return None


def _token_accepted(request: Request, token: str, bearer: str, cookie: str) -> bool:
    """Check the bearer token or the session cookie (429 while backing off); count a wrong token as a failure."""
    _throttled(request)
    revoked = request.app.state.__dict__.get("admin_revoked", {})
    if (bearer and _same(bearer, token)) or (cookie and session_nonce(cookie, token, revoked)):
        return True
    if bearer:  # an expired or revoked cookie is not a guess; a wrong token is
        request.app.state.auth_throttle.failed(_client(request))
    return False


def _refusal(token: str, header: str, bearer: str, cookie: str) -> HTTPException:
    """The error for a request not signed in: disabled views, a wrong token, an ended session, or no credentials."""
    if not token and not header:
        return HTTPException(403, "the curator views are disabled: set GLOSSARY_ADMIN_TOKEN or GLOSSARY_ADMIN_TRUSTED_HEADER")
    if bearer:
        return HTTPException(403, "wrong admin token")
    if cookie:
        return HTTPException(401, "your curator session has ended; sign in again at /admin/login",
                             headers={"WWW-Authenticate": "Bearer"})
    return HTTPException(401, "curator sign-in required (Authorization: Bearer <GLOSSARY_ADMIN_TOKEN>)",
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

    _throttled(request)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    offered = form.get("token", [""])[0].strip()
    if not settings.admin_token or not offered or not _same(offered, settings.admin_token):
        request.app.state.auth_throttle.failed(_client(request))
        return render("admin_login.html", {"nav": "admin", "error": "That token is not right."}, status_code=403)
    request.app.state.auth_throttle.succeeded(_client(request))
    response = RedirectResponse("/admin", status_code=303)
    secure = request.url.scheme == "https" or settings.public_base_url.startswith("https://")
    response.set_cookie(COOKIE, new_session(settings.admin_token), httponly=True, samesite="strict", secure=secure,
                        path="/admin", max_age=SESSION_SECONDS)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    """End this browser's curator session (the cookie is revoked, not only deleted)."""
    if request.cookies.get(COOKIE):
        _revoke(request, request.cookies[COOKIE])
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(COOKIE, path="/admin", httponly=True, samesite="strict")
    return response


# Views ----------------------------------------------------------------------------------------------
@router.get("", include_in_schema=False)
def admin_home(user: Curator) -> Response:
    return RedirectResponse("/admin/gaps", status_code=303)


GAP_WINDOW = 1000  # distinct questions considered, most asked first
GAPS_PER_PAGE = 50


def _gaps(request, resources, settings, store):
    if store is None:
        return []
    from app.curation import GapEmbeddings

    cache = request.app.state.__dict__.setdefault("gap_embeddings", GapEmbeddings())
    entries = store.gap_counts(low_confidence=settings.low_confidence, limit=GAP_WINDOW)
    return group_gaps(entries, resources.embedder, cache)


@router.get("/gaps")
async def gaps(request: Request, user: Curator, resources: ResourcesDep, settings: SettingsDep, store: StoreDep,
               page: int = Query(1, ge=1, le=10000)):
    """Unanswered and low-confidence questions, grouped by similarity, with counts and last seen; 50 a page."""
    groups = await _from_db(_gaps, request, resources, settings, store)
    pages = max(1, -(-len(groups) // GAPS_PER_PAGE))
    first = (page - 1) * GAPS_PER_PAGE
    shown = list(enumerate(groups))[first:first + GAPS_PER_PAGE]
    if _wants_html(request):
        items = [{"n": i, "group": g, "name": guess_name(g.title)} for i, g in shown]
        return render("admin_gaps.html", {"nav": "admin", "items": items, "user": user, "tab": "gaps",
                                          "page": page, "pages": pages, "total": len(groups)})
    return {"page": page, "pages": pages, "total": len(groups),
            "groups": [{"id": i, "questions": g.questions, "count": g.count, "last_seen": g.last_seen.isoformat(),
                        "suggestions": g.suggestions, "stub_url": f"/admin/gaps/{i}/stub.md"} for i, g in shown]}


@router.get("/gaps/{number}/stub.md")
async def gap_stub(request: Request, number: int, user: Curator, resources: ResourcesDep, settings: SettingsDep,
                   store: StoreDep):
    """A draft term file for one gap group, ready for a curator to finish."""
    groups = await _from_db(_gaps, request, resources, settings, store)
    if not 0 <= number < len(groups):
        raise HTTPException(404, f"no gap group {number}")
    name = stub_slug(guess_name(groups[number].title))
    return Response(stub_markdown(groups[number]), media_type="text/markdown; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.md"'})


@router.get("/gaps/stubs.zip")
async def gap_stubs(request: Request, user: Curator, resources: ResourcesDep, settings: SettingsDep,
                    store: StoreDep):
    """Every gap group as a draft term file, in one zip."""
    groups = await _from_db(_gaps, request, resources, settings, store)
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
        return render("admin_health.html", {"nav": "admin", "data": data, "reload": None, "user": user,
                                            "tab": "health"})
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
