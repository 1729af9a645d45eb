"""Glossary files: model, loading and validation."""

from app.glossary.loader import GlossaryInvalid, LoadResult, Problem, load_glossary, load_or_raise
from app.glossary.model import Glossary, Term, normalize

__all__ = ["Glossary", "GlossaryInvalid", "LoadResult", "Problem", "Term", "load_glossary", "load_or_raise", "normalize"]
