"""Other tools (torchinfo, fvcore, ptflops both backends, thop) run live in CI on the
hand-built networks: convcount's --count-as must agree."""

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
    thop = _framework("thop")
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
            pt_macs, pt_params = ptflops.get_model_complexity_info(
                model,
                tuple(x.shape[1:]),
                as_strings=False,
                print_per_layer_stat=False,
                backend="pytorch",
                input_constructor=lambda _shape: x,
            )
            th_macs, th_params, tree = thop.profile(
                model, inputs=(x,), verbose=False, ret_layer_info=True
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
    assert count_as(report, "ptflops-pytorch").total == pt_macs
    assert count_as(report, "ptflops-pytorch").params == pt_params
    th = count_as(report, "thop")
    assert (th.total, th.params) == (th_macs, th_params)
    assert th.printed == {"MACs": repr(th_macs), "params": repr(th_params)}
    # per module: the model file's layer names are the module names (relu_1 is a
    # second call of relu in the network, so thop's relu holds both: 0 either way)
    ours = {layer.name: layer.figure for layer in th.layers if layer.figure}
    assert ours == {name: ops for name, (ops, _params, _children) in tree.items() if ops}


@pytest.mark.frameworks
@pytest.mark.parametrize("name", sorted(NETS))
def test_module_hook_counters_at_batch_3(name: str, tmp_path: Path, torch: ModuleType) -> None:
    """At a batch of 3: thop counts the batch; ptflops-pytorch averages its module hooks
    over it but not its patched functions, and its Upsample hook reads one example."""
    ptflops = _framework("ptflops")
    thop = _framework("thop")
    model, one = NETS[name].build()
    model.eval()
    x = torch.cat([one, one, one])
    path = tmp_path / f"{name}.toml"
    path.write_text(NETS[name].toml)
    report = load_model(str(path))
    with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):
        pt_macs, _ = ptflops.get_model_complexity_info(
            model,
            tuple(x.shape[1:]),
            as_strings=False,
            print_per_layer_stat=False,
            backend="pytorch",
            input_constructor=lambda _shape: x,
        )
        th_macs, _ = thop.profile(model, inputs=(x,), verbose=False)
    assert count_as(report, "ptflops-pytorch", 3).total == pt_macs
    assert count_as(report, "thop", 3).total == th_macs
