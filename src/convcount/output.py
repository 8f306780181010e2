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


def resolve_format(
    format_: str | None,
    json_: bool,
    quiet: bool,
    *,
    choices: Sequence[str] = FORMATS,
    default: str | None = "table",
) -> str | None:
    """The one output format asked for by --format, --json and -q/--quiet."""
    asked = [f for f, on in (("json", json_), ("plain", quiet)) if on]
    if format_ is not None:
        word = format_.strip().lower()
        if word not in choices:
            from convcount.errors import did_you_mean

            raise ConvcountError(
                "format",
                f"--format must be one of {', '.join(choices)}, got {format_!r}"
                + did_you_mean(word, tuple(choices), as_field=False),
            )
        asked.append(word)
    if len(set(asked)) > 1:
        raise ConvcountError(
            "format", "--json, -q/--quiet and --format ask for different outputs; give one"
        )
    return asked[0] if asked else default


def write_json(value: Any) -> None:
    """One JSON document on stdout.

    orjson first (a 1,000-layer model's record in 2 ms instead of 30 ms); the
    standard library for what orjson refuses, integers beyond 64 bits.
    """
    import orjson

    try:
        sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")
    except TypeError:  # orjson.JSONEncodeError: an integer too large for it
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
        # The one number a comparison answers: what the separable block costs
        # as a fraction of the standard conv (its row's params_ratio).
        separable = next(r for r in records if r["name"] == "separable")
        sys.stdout.write(f"{separable['params_ratio']}\n")
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
    options: dict[str, str] | None = None,
    batch_size: str | None = None,
) -> None:
    """Count a model file (or a shipped model) and write it in ``fmt``."""
    from convcount.layers import parse_int
    from convcount.model import load_model, resolve_source

    batch = 1 if batch_size is None else parse_int("batch_size", batch_size)
    notice = resolve_source(source).notice
    if notice:
        sys.stderr.write(notice + "\n")
    report = load_model(
        source,
        width_multiplier=width_multiplier,
        resolution=resolution,
        convention=convention,
        dtype=dtype,
        options=options,
    )
    if fmt == "plain":
        sys.stdout.write(f"{report.total_params}\n")
    elif fmt == "json":
        from convcount.summary import model_record

        write_json(model_record(report, batch))
    elif fmt == "csv":
        from convcount.summary import MODEL_CSV_COLUMNS, model_csv_rows, model_record

        write_csv(MODEL_CSV_COLUMNS, model_csv_rows(model_record(report, batch)))
    else:
        from convcount.render import print_model

        print_model(report, batch)


def emit_zoo_list(fmt: str) -> None:
    """Every shipped model with its parameters, MACs and default input."""
    from convcount.model.zoo import listing

    rows = listing()
    columns = ("name", "framework", "input_shape", "total_params", "non_trainable_params", "macs")
    if fmt == "json":
        write_json([dict(zip(columns, row, strict=True)) for row in rows])
    elif fmt == "csv":
        from convcount.records import csv_cell

        write_csv(columns, [[csv_cell(v) for v in row] for row in rows])
    elif fmt == "plain":
        sys.stdout.write("".join(f"{row[0]}\n" for row in rows))
    else:
        from convcount.render import print_zoo_list

        print_zoo_list(columns, rows)


def emit_kinds(fmt: str) -> None:
    """The model format's reference, from the layer-kind registry."""
    from convcount.model.reference import kinds_records, reference_text

    if fmt == "json":
        write_json(kinds_records())
    elif fmt == "csv":
        from convcount.records import csv_cell

        rows = [
            [csv_cell(v) for v in (k["kind"], f["name"], f["type"], f["default"], f["doc"])]
            for k in kinds_records()
            for f in k["fields"] or [{"name": "", "type": "", "default": "", "doc": ""}]
        ]
        write_csv(("kind", "field", "type", "default", "doc"), rows)
    else:
        sys.stdout.write(reference_text())
