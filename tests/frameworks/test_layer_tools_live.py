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


@pytest.mark.frameworks
def test_fvcore_skips_string_padding_in_a_model_file(tmp_path: Any, torch: ModuleType) -> None:
    """A model file's separable kind with padding "same" (torch convention): fvcore counts
    its 1x1 step only; a conv with padding "valid" counts 0, one with zeros counts."""
    fvcore_nn = _framework("fvcore.nn")
    from torch import nn

    from convcount.model import load_model
    from convcount.model.tools import count_as

    path = tmp_path / "net.toml"
    path.write_text(
        '[model]\ninput = { size = 9, channels = 4 }\nconvention = "torch"\n'
        '[[layer]]\nkind = "separable"\nkernel_size = 3\nout_channels = 8\npadding = "same"\n'
        '[[layer]]\nkind = "conv"\nkernel_size = 3\nout_channels = 6\npadding = "valid"\n'
        '[[layer]]\nkind = "conv"\nkernel_size = 3\nout_channels = 5\npadding = 1\n'
    )
    model = nn.Sequential(
        nn.Conv2d(4, 4, 3, padding="same", groups=4),
        nn.Conv2d(4, 8, 1),
        nn.Conv2d(8, 6, 3, padding="valid"),
        nn.Conv2d(6, 5, 3, padding=1),
    ).eval()
    analysis = fvcore_nn.FlopCountAnalysis(model, torch.rand(1, 4, 9, 9))
    analysis.unsupported_ops_warnings(False)
    with torch.no_grad():
        total = analysis.total()
    assert dict(analysis.unsupported_ops()) == {"aten::_convolution_mode": 2}
    assert count_as(load_model(str(path)), "fvcore").total == total
