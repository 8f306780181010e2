"""torchinfo, fvcore, ptflops (both backends) and thop run live in CI on hand-built
networks exported to .pt2 in the test: ``--count-as`` on the file must print what
each tool prints for the module (and ``--count-as all --json`` carries it)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from convcount.model import load_model
from convcount.model.tools import count_as
from tests.conftest import run
from tests.frameworks.conftest import _framework
from tests.tools.pt2_nets import HAND_NETS
from tests.tools.test_pt2_tools import check


@pytest.mark.frameworks
@pytest.mark.parametrize("name", ["hand_functional", "hand_nested", "hand_methods"])
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
    # at a batch of 3 (the file exported at 1): thop counts the batch, ptflops-pytorch
    # averages its module hooks but not its patched functions, torchinfo's memory grows
    batch = measure(model, x.repeat(3, *([1] * (x.dim() - 1))))
    report = load_model(str(path))
    assert count_as(report, "flop_counter", 3).total == batch["flop_counter"]["macs"]
    info = count_as(report, "torchinfo", 3)
    assert info.total == batch["torchinfo"]["total_mult_adds"]
    assert info.memory is not None
    assert info.memory["forward_backward_bytes"] == batch["torchinfo"]["forward_backward_bytes"]
    assert count_as(report, "fvcore", 3).total == batch["fvcore"]["total"]
    assert count_as(report, "ptflops", 3).total == batch["ptflops_aten"]["macs"]
    assert count_as(report, "ptflops-pytorch", 3).total == batch["ptflops_pytorch"]["macs"]
    assert count_as(report, "thop", 3).total == batch["thop"]["macs"]
