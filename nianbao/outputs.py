"""Write extraction results: flat records (JSONL), full nested reports (JSONL), long-format CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO

from .pipeline import Record

CSV_COLUMNS = ("source", "key", "value", "raw", "state", "page", "bbox", "image", "span", "xpath", "method", "confidence", "review")


class Writer:
    """Streams records to DIR/records.jsonl, DIR/reports.jsonl and DIR/fields.csv as they arrive."""

    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.dir = out_dir
        self._records: IO[str] = (out_dir / "records.jsonl").open("w", encoding="utf-8")
        self._reports: IO[str] = (out_dir / "reports.jsonl").open("w", encoding="utf-8")
        self._csv_file: IO[str] = (out_dir / "fields.csv").open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(CSV_COLUMNS)

    def write(self, record: Record) -> None:
        flat = record.model_dump(mode="json", exclude={"report"})
        self._records.write(json.dumps(flat, ensure_ascii=False) + "\n")
        full = record.model_dump(mode="json")
        self._reports.write(json.dumps(full, ensure_ascii=False) + "\n")
        if record.report is not None:
            for key, v in record.report.values():
                p = v.provenance
                self._csv.writerow(
                    (
                        record.source,
                        key,
                        "" if v.value is None else v.value,
                        "" if v.raw is None else v.raw,
                        v.state.value,
                        p.page if p and p.page is not None else "",
                        " ".join(f"{c:g}" for c in p.bbox) if p and p.bbox else "",
                        p.image if p and p.image else "",
                        f"{p.span[0]}-{p.span[1]}" if p and p.span else "",
                        p.xpath if p and p.xpath else "",
                        v.method.value if v.method else "",
                        f"{v.confidence:.2f}",
                        "; ".join(v.review),
                    )
                )

    def close(self) -> None:
        for f in (self._records, self._reports, self._csv_file):
            f.close()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_records(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
