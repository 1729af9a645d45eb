"""Shared-glossary chat assistant for procurement and IT."""
