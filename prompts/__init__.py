"""Versioned prompt templates, one file per task (see extract/llm/prompts.py)."""
