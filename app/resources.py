"""Everything a running service holds: glossary, embedder, index, retriever, composer, store."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from app.answer.cache import AnswerCache
from app.answer.compose import Composer
from app.answer.conversation import MemoryConversations
from app.answer.context import AskContext
from app.config import Settings
from app.glossary.loader import Problem, load_or_raise
from app.glossary.model import Glossary
from app.search.embedder import Embedder, make_embedder
from app.search.index import IndexError_, SearchIndex, build_index, load_index, save_index
from app.search.retrieve import Retriever
from app.search.spotter import Spotter

log = logging.getLogger("glossary")

T = TypeVar("T")


@dataclass
class Resources:
    settings: Settings
    glossary: Glossary
    embedder: Embedder
    index: SearchIndex
    retriever: Retriever
    composer: Composer
    warnings: list[Problem] = field(default_factory=list)
    answers: AnswerCache = field(default_factory=AnswerCache)  # repeated questions; new with every reload
    # What depends only on the loaded glossary (a term page's sections as HTML): made once, dropped with a reload.
    _derived: dict[Any, Any] = field(default_factory=dict, repr=False)

    def derived(self, key: Any, make: Callable[[], T]) -> T:
        """`make()`, computed once per load for `key` (two threads racing compute the same value; one is kept)."""
        try:
            value: T = self._derived[key]
        except KeyError:
            value = self._derived.setdefault(key, make())
        return value

    def url_for(self, slug: str) -> str:
        return term_url(self.settings, slug)

    def ask_context(self) -> AskContext:
        return AskContext(self.glossary, self.retriever, self.composer, self.settings.confidence_threshold)

    @property
    def spotter(self) -> Spotter:
        """Finds glossary names and aliases in text (the widget, page links, answers)."""
        return self.retriever.spotter

    def lexical_scores(self, text: str) -> dict[str, float]:
        """The lexical index's raw score per term for `text`."""
        return self.retriever.lexical_scores(text)


def term_url(settings: Settings, slug: str) -> str:
    """The term page's URL, absolute when a public base URL is configured."""
    return f"{settings.public_base_url.rstrip('/')}/terms/{slug}"


def reference_embedder(settings: Settings) -> Embedder:
    """The embedder indexes are built with: sentence-transformers, the reference implementation.

    A serving-only install (the container image) has no torch; it builds with an ONNX file of the
    same model instead, and says so: the packaged fp32-at-run-time file when installed (cosine 0.9986+
    to the reference on every view), else the int8 query model (0.99+).
    """
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        from app.search.onnx_embedder import OnnxEmbedder, packaged_onnx_file

        embedder = OnnxEmbedder(settings.resolved_model_path(), packaged_onnx_file() or settings.onnx_model)
        log.warning("sentence-transformers is not installed; building the index with the ONNX model %s", embedder.path)
        return embedder
    from app.search.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(settings.resolved_model_path())


def ensure_index(settings: Settings, glossary: Glossary, embedder: Embedder, *,
                 builder: Callable[[], Embedder] | None = None, force: bool = False,
                 serve_unsaved: bool = False) -> SearchIndex:
    """Load the index, rebuilding (and saving) it when it is missing, damaged or stale.

    Queries will be embedded by `embedder`; a build uses `builder()` when given (the heavy reference
    model is then only loaded when a build is really needed), else `embedder` itself.
    """
    previous: SearchIndex | None = None
    reason = "forced rebuild" if force else None
    try:
        previous = load_index(settings.index_dir)
    except IndexError_ as exc:
        reason = str(exc)
    if previous is None and reason is None:
        reason = f"no index in {settings.index_dir}"
    if previous is not None and reason is None:
        reason = previous.is_stale(glossary, embedder.model_id)
        if reason is None:
            return previous
    if not settings.rebuild_stale_index and not force:
        raise IndexError_(f"{reason}; run `glossary build` (or set GLOSSARY_REBUILD_STALE_INDEX=true)")
    log.warning("rebuilding index: %s", reason)
    index = build_index(glossary, builder() if builder else embedder, previous=previous)
    try:
        save_index(index, settings.index_dir)
    except OSError as exc:
        if not serve_unsaved:
            raise
        # A full disk or a read-only volume must not stop the service: serve the new index from memory.
        log.error("could not save the rebuilt index to %s (%s); serving it from memory, it is rebuilt at next start",
                  settings.index_dir, exc)
    log.info("index built: %s terms, %s views in %ss", index.manifest["terms"], index.manifest["views"],
             index.manifest["build_seconds"])
    return index


def load_resources(settings: Settings, embedder: Embedder | None = None) -> Resources:
    """Load the glossary (raising GlossaryInvalid with every error), the model and the index.

    With no embedder given, queries use the configured one (the ONNX fast path with `auto`) and a
    missing or stale index is rebuilt with the sentence-transformers reference model.
    """
    glossary, problems = load_or_raise(settings.glossary_dir)
    builder = None
    if embedder is None:
        embedder = make_embedder(settings.embedder, settings.resolved_model_path(), settings.onnx_model,
                                 threads=settings.query_threads())
        log.info("query embedder: %s", describe_embedder(embedder))
        if not isinstance(embedder, _reference_type()):
            builder = lambda: reference_embedder(settings)  # noqa: E731
    index = ensure_index(settings, glossary, embedder, builder=builder, serve_unsaved=True)
    return assemble(settings, glossary, index, embedder, problems)


def assemble(settings: Settings, glossary: Glossary, index: SearchIndex, embedder: Embedder,
             problems: list[Problem] | None = None) -> Resources:
    """Put loaded parts together into the object every request reads (swapped whole on reload)."""
    retriever = Retriever(glossary, index, embedder)
    composer = Composer(glossary, lambda slug: term_url(settings, slug), retriever.spotter)
    return Resources(settings, glossary, embedder, index, retriever, composer, list(problems or []))


def describe_embedder(embedder: Embedder) -> str:
    """One line naming the query embedder, its model file and threads (logged at start)."""
    path = getattr(embedder, "path", None)
    session = getattr(embedder, "session", None)
    threads = session.get_session_options().intra_op_num_threads if session is not None else None
    return type(embedder).__name__ + (f" {path}" if path else "") + (f", {threads} intra-op thread(s)" if threads else "")


def _reference_type() -> type:
    from app.search.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder


def new_conversations(settings: Settings) -> MemoryConversations:
    return MemoryConversations(settings.conversation_ttl_seconds, settings.max_conversations, settings.max_turns)
