"""The same job done three ways: standard, depthwise-separable and grouped conv.

Ratios are to the standard convolution. The theoretical separable ratio is
the MobileNet paper's 1/Cout + 1/K (weights only), times the depth
multiplier m when m > 1: (K*Cin*m + Cin*m*Cout) / (K*Cin*Cout) = m/Cout + m/K.
A grouped conv's is 1/g.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import Any

from convcount.counting import Report, count
from convcount.layers import make_layer

#: Columns of the comparison's CSV output: the keys of its JSON rows, in order.
COMPARE_COLUMNS: tuple[str, ...] = (
    "name",
    "layer",
    "groups",
    "depth_multiplier",
    "params",
    "params_ratio",
    "theoretical_ratio",
    "macs",
    "macs_ratio",
    "output_size",
)


@dataclass(frozen=True)
class ComparisonRow:
    """One way of doing the job, measured against the standard conv."""

    name: str
    """standard, separable or grouped."""
    report: Report
    """The layer's full count."""
    baseline: Report
    """The standard conv it is compared with."""
    theoretical: Fraction
    """The weights-only ratio the formulas predict."""

    @property
    def params_ratio(self) -> Fraction:
        """Parameters as a fraction of the standard conv's."""
        return Fraction(self.report.total, self.baseline.total)

    @property
    def macs_ratio(self) -> Fraction | None:
        """MACs as a fraction of the standard conv's (None without an input size)."""
        if self.report.macs is None or not self.baseline.macs:
            return None
        return Fraction(self.report.macs, self.baseline.macs)


def compare_layers(**fields: object) -> list[ComparisonRow]:
    """Standard, separable and (with ``groups``) grouped conv for the same job."""
    given = {k: v for k, v in fields.items() if v is not None and v != ""}
    common = {k: v for k, v in given.items() if k not in ("groups", "depth_multiplier")}
    standard = count(make_layer("conv", **common))
    separable_fields = dict(common)
    if "depth_multiplier" in given:
        separable_fields["depth_multiplier"] = given["depth_multiplier"]
    separable = count(make_layer("separable", **separable_fields))
    k = prod(standard.layer.kernel_size)
    m = separable.layer.depth_multiplier or 1
    rows = [
        ComparisonRow("standard", standard, standard, Fraction(1)),
        ComparisonRow(
            "separable",
            separable,
            standard,
            Fraction(m, standard.layer.out_channels) + Fraction(m, k),
        ),
    ]
    if "groups" in given:
        grouped = count(make_layer("conv", **common, groups=given["groups"]))
        rows.append(
            ComparisonRow("grouped", grouped, standard, Fraction(1, grouped.layer.groups or 1))
        )
    return rows


def _float(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 6)


def to_compare_record(row: ComparisonRow) -> dict[str, Any]:
    """The JSON object for one comparison row."""
    return {
        "name": row.name,
        "layer": row.report.layer.kind,
        "groups": row.report.layer.groups,
        "depth_multiplier": row.report.layer.depth_multiplier,
        "params": row.report.total,
        "params_ratio": _float(row.params_ratio),
        "theoretical_ratio": _float(row.theoretical),
        "macs": row.report.macs,
        "macs_ratio": _float(row.macs_ratio),
        "output_size": None if row.report.output_size is None else list(row.report.output_size),
    }
