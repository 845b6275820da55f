"""The results store: one SQLite file beside a run's outputs (``OUT/nianbao.db``).

``nianbao extract … --out OUT`` writes it record by record, in step with the output
files (see ``nianbao.outputs``); the review app and the exports read it; corrections
are written into it and never over the machine's values.  Plain tables of text,
numbers and JSON text, so ``sqlite3``, ``sqlite-utils`` and Datasette read it as it is.
The schema is versioned by ``PRAGMA user_version`` (= ``STORE_SCHEMA_VERSION``) and
the ``meta`` table (``schema_version``, ``nianbao_version``, ``created_at``).

Tables (DDL in ``nianbao.store.schema``):

- ``meta``: key/value facts about the file.
- ``runs``: each ``extract`` that wrote into it (started, finished, mode, out folder, version).
- ``reports``: one per input file: ``source`` (unique), ``sha256``, ``status``, ``error``,
  ``error_stage``, ``format``, ``template``, ``year``, ``agency``, ``review_state``
  (``unreviewed`` → ``in_review`` → ``done``), timestamps.
- ``fields``: one per flat key of spec/fields.md, as the machine read it: ``state``,
  ``value`` (JSON text; NULL for no value), ``raw``, ``method``, ``confidence``, the
  provenance as columns (``file``, ``page``, ``bbox`` JSON, ``span_start``/``span_end``,
  ``xpath``, ``image``, ``table_index``/``row_index``/``col_index``), ``review`` (the
  machine's reasons, JSON list), ``flags`` (the reasons that stand after the latest
  checks) and ``risk`` (the queue rank of ``flags``, see ``nianbao.store.risk``).
- ``checks``: every check judged on a report: ``name``, ``relation``, ``outcome``,
  ``left``, ``right``, ``operands`` and ``keys`` (JSON), ``origin`` (``machine`` or
  ``recheck``) and ``current`` (1 for the latest set).
- ``corrections``: the audit trail: report, key, the machine's state and value, the new
  state and value, what was typed, ``reviewer``, ``at`` (UTC ISO 8601), ``why``, ``via``.
- ``reviewers``: every name that corrected or moved a report.
- ``review_log``: every review-state change, with who, when and why.
- view ``current_fields``: each field with its current value (latest correction, else
  the machine's; method ``human`` where a correction changed it).

The review app's API is ``ResultsStore`` (``nianbao.store.review``).
"""

from .review import CheckView, Correction, CorrectionResult, FieldView, ReportSummary, ReportView, ResultsStore, ReviewEvent
from .risk import RISK_LABELS, risk_rank
from .schema import REVIEW_STATES, STORE_FILE, STORE_SCHEMA_VERSION, StoreError
from .validate import CorrectionError, kind_of, parse

__all__ = [
    "REVIEW_STATES",
    "RISK_LABELS",
    "STORE_FILE",
    "STORE_SCHEMA_VERSION",
    "CheckView",
    "Correction",
    "CorrectionError",
    "CorrectionResult",
    "FieldView",
    "ReportSummary",
    "ReportView",
    "ResultsStore",
    "ReviewEvent",
    "StoreError",
    "kind_of",
    "parse",
    "risk_rank",
]
