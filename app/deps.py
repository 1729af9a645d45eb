"""Dependency aliases for routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.answer.conversation import ConversationStore
from app.config import Settings
from app.resources import Resources
from app.store import Store


def get_resources(request: Request) -> Resources:
    resources = getattr(request.app.state, "resources", None)
    if resources is None:
        raise HTTPException(503, "the glossary is still loading; try again in a moment")
    return resources


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_conversations(request: Request) -> ConversationStore:
    return request.app.state.conversations


def get_store(request: Request) -> Store | None:
    return getattr(request.app.state, "store", None)


ResourcesDep = Annotated[Resources, Depends(get_resources)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ConversationsDep = Annotated[ConversationStore, Depends(get_conversations)]
StoreDep = Annotated[Store | None, Depends(get_store)]
