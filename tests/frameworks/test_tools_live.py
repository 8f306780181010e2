"""Other tools run live in CI on the hand-built networks: convcount's --count-as must agree."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from types import ModuleType

import pytest

from convcount.model import load_model
from convcount.model.tools import count_as
from tests.frameworks.conftest import _framework
from tests.tools.nets import NETS


@pytest.mark.frameworks
@pytest.mark.parametrize("name", sorted(NETS))
def test_live(name: str, tmp_path: Path, torch: ModuleType) -> None:
    torchinfo = _framework("torchinfo")
    fvcore_nn = _framework("fvcore.nn")
    ptflops = _framework("ptflops")
    model, x = NETS[name].build()
    model.eval()
    path = tmp_path / f"{name}.toml"
    path.write_text(NETS[name].toml)
    report = load_model(str(path))
    with torch.no_grad():
        stats = torchinfo.summary(model, input_data=x, verbose=0, device="cpu")
        analysis = fvcore_nn.FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        fv_total = analysis.total()
        with contextlib.redirect_stdout(io.StringIO()):
            macs, params = ptflops.get_model_complexity_info(
                model,
                tuple(x.shape[1:]),
                as_strings=False,
                print_per_layer_stat=False,
                backend="aten",
                input_constructor=lambda _shape: x,
            )
    info = count_as(report, "torchinfo")
    assert info.total == stats.total_mult_adds
    assert info.memory is not None
    assert info.memory["forward_backward_bytes"] == stats.total_output_bytes
    assert info.memory["input_bytes"] == stats.total_input
    assert info.memory["param_bytes"] == stats.total_param_bytes
    assert count_as(report, "fvcore").total == fv_total
    assert count_as(report, "ptflops").total == macs
    assert count_as(report, "ptflops").params == params
