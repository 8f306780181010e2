"""Writing answers to stdout in the chosen format.

JSON, CSV and plain text are written here with the standard library; only a
table imports :mod:`convcount.render` (and so rich), which keeps the
scripting paths fast to start.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from convcount.errors import ConvcountError

if TYPE_CHECKING:
    from convcount.counting import Report

FORMATS: tuple[str, ...] = ("table", "json", "csv", "plain")


def resolve_format(format_: str | None, json_: bool, quiet: bool) -> str:
    """The one output format asked for by --format, --json and -q/--quiet."""
    asked = [f for f, on in (("json", json_), ("plain", quiet)) if on]
    if format_ is not None:
        word = format_.strip().lower()
        if word not in FORMATS:
            raise ConvcountError(
                "format", f"--format must be one of {', '.join(FORMATS)}, got {format_!r}"
            )
        asked.append(word)
    if len(set(asked)) > 1:
        raise ConvcountError(
            "format", "--json, -q/--quiet and --format ask for different outputs; give one"
        )
    return asked[0] if asked else "table"


def write_json(value: Any) -> None:
    """One JSON document on stdout."""
    import json

    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def write_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A header and rows as CSV on stdout."""
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def emit_report(report: Report, fmt: str) -> None:
    """One layer's answer in ``fmt``."""
    if fmt == "plain":
        sys.stdout.write(f"{report.total}\n")
    elif fmt == "json":
        from convcount.records import to_record

        write_json(to_record(report))
    elif fmt == "csv":
        from convcount.records import CSV_COLUMNS, to_csv_row

        write_csv(CSV_COLUMNS, [to_csv_row(report)])
    else:
        from convcount.render import print_report

        print_report(report)


def emit_comparison(rows: Sequence[Any], fmt: str) -> None:
    """A comparison's rows in ``fmt`` (plain: one total per line)."""
    from convcount.compare import COMPARE_COLUMNS, to_compare_record
    from convcount.records import csv_cell

    records = [to_compare_record(row) for row in rows]
    if fmt == "plain":
        sys.stdout.write("".join(f"{r['params']}\n" for r in records))
    elif fmt == "json":
        write_json(records)
    elif fmt == "csv":
        write_csv(COMPARE_COLUMNS, [[csv_cell(r[c]) for c in COMPARE_COLUMNS] for r in records])
    else:
        from convcount.render import print_comparison

        print_comparison(rows)


def emit_model(
    source: str,
    width_multiplier: str | None,
    resolution: str | None,
    convention: str | None,
    dtype: str | None,
    fmt: str,
) -> None:
    """Count a model file (or a shipped model) and write it in ``fmt``."""
    from convcount.model import MODEL_CSV_COLUMNS, load_model, model_csv_rows, model_record

    if fmt not in ("table", "json", "csv"):
        raise ConvcountError("format", f"--format must be one of table, json, csv, got {fmt!r}")
    report = load_model(
        source,
        width_multiplier=width_multiplier,
        resolution=resolution,
        convention=convention,
        dtype=dtype,
    )
    if fmt == "json":
        write_json(model_record(report))
    elif fmt == "csv":
        write_csv(MODEL_CSV_COLUMNS, model_csv_rows(report))
    else:
        from convcount.render import print_model

        print_model(report)
