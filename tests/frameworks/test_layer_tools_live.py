"""--count-as on the layer commands, against torchinfo, fvcore, ptflops (both backends)
and thop run live on the layer's PyTorch equivalent: every figure the command prints,
in --json and -q."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import run
from tests.frameworks.conftest import _framework
from tests.tools.layer_cases import (
    LIVE,
    TOOL_KEYS,
    arguments,
    case_name,
    compare,
    equivalent,
    measure,
)


@pytest.mark.frameworks
@pytest.mark.parametrize(("kind", "fields"), LIVE, ids=[case_name(*case) for case in LIVE])
def test_live(kind: str, fields: dict[str, Any], torch: ModuleType) -> None:
    for name in ("torchinfo", "fvcore.nn", "ptflops", "thop"):
        _framework(name)
    args = [kind, *arguments(fields)]
    records = {}
    for tool in TOOL_KEYS:
        result = run(*args, "--count-as", tool, "--json")
        assert result.exit_code == 0, result.stderr
        records[tool] = json.loads(result.stdout)
    quiet = run(*args, "--count-as", "all", "-q").stdout.split()
    layer = json.loads(run(*args, "--json").stdout)
    head = records["torchinfo"]
    model = equivalent(head["counted"]).to(getattr(torch, layer["dtype"]))
    x = torch.rand(1, *head["input_shape"], dtype=getattr(torch, layer["dtype"]))
    truth = measure(model, x)
    # the modules counted are the layer: its parameters and its output
    assert truth["params"] == layer["total"]
    channels_first = head["input_shape"][0] == layer["in_channels"]
    assert channels_first
    assert truth["output_shape"] == [layer["out_channels"], *layer["output_size"]]
    compare(records, [int(n) for n in quiet], truth)
