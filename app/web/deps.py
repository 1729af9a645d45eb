"""Dependency aliases for routes: the typed AppState and what routes read from it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app import service
from app.config import Settings
from app.resources import Resources
from app.state import AppState
from app.store import Store


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state  # create_app installs an AppState as app.state
    return state


def get_resources(state: Annotated[AppState, Depends(get_state)]) -> Resources:
    return service.resources_of(state)


def get_settings(state: Annotated[AppState, Depends(get_state)]) -> Settings:
    return state.settings


def get_store(state: Annotated[AppState, Depends(get_state)]) -> Store | None:
    return state.store


StateDep = Annotated[AppState, Depends(get_state)]
ResourcesDep = Annotated[Resources, Depends(get_resources)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store | None, Depends(get_store)]
