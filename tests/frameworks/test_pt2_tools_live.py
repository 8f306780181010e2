"""torchinfo, fvcore, ptflops (both backends) and thop run live in CI on hand-built
networks exported to .pt2 in the test: ``--count-as`` on the file must print what
each tool prints for the module (and ``--count-as all --json`` carries it)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from convcount.model import load_model
from tests.conftest import run
from tests.frameworks.conftest import _framework
from tests.tools.pt2_nets import HAND_NETS
from tests.tools.test_pt2_tools import check


@pytest.mark.frameworks
@pytest.mark.parametrize("name", ["hand_functional", "hand_nested", "hand_attention"])
def test_pt2_live(name: str, tmp_path: Path, torch: ModuleType) -> None:
    for tool in ("torchinfo", "fvcore.nn", "ptflops", "thop"):
        _framework(tool)
    from tests.tools.capture_tools import measure

    model, x = HAND_NETS[name]()
    model.eval()
    path = tmp_path / f"{name}.pt2"
    torch.export.save(torch.export.export(model, (x,)), str(path))
    fast = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the path the export records
    try:
        record = measure(model, x)
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)
    check(load_model(str(path)), record)

    result = run("model", str(path), "--count-as", "all", "--json")
    assert result.exit_code == 0, result
    printed = json.loads(result.stdout)
    tools = {entry["tool"]: entry for entry in printed["tools"]}
    assert tools["thop"]["total"] == record["thop"]["macs"]
    assert tools["torchinfo"]["total"] == record["torchinfo"]["total_mult_adds"]
    assert tools["fvcore"]["total"] == record["fvcore"]["total"]
    assert tools["ptflops"]["total"] == record["ptflops_aten"]["macs"]
    assert tools["ptflops-pytorch"]["total"] == record["ptflops_pytorch"]["macs"]
