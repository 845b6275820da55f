"""Strict schema of a report: values with provenance, the two templates, flat keys."""

from .report import SCHEMA_VERSION, CheckResult, Outcome, Report
from .template import TEMPLATES, TemplateId, flat_keys
from .value import Method, Provenance, State, Value

__all__ = [
    "SCHEMA_VERSION",
    "TEMPLATES",
    "CheckResult",
    "Method",
    "Outcome",
    "Provenance",
    "Report",
    "State",
    "TemplateId",
    "Value",
    "flat_keys",
]
