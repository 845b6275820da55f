"""LLM-assisted extraction: structured calls to any OpenAI-compatible endpoint, grounded in the source."""
