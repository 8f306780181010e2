"""Model files exported live from PyTorch, counted and compared with the module itself.

A representative set, small enough for CI: the hand-written networks of
tests/files/capture_torch.py and a small CNN with BatchNorm, squeeze-and-excite
and a classifier, each saved with ``torch.export.save``, ``torch.onnx.export``
(legacy, and dynamo when ``onnxscript`` is installed), ``torch.save`` of its
state dict and as a whole pickled model (refused). The full set of torchvision
families is checked against captured files in tests/test_files_torch.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from convcount.errors import ConvcountError
from convcount.model import load_file

pytestmark = [
    pytest.mark.frameworks,
    # torch.onnx's notice that the legacy exporter is deprecated: it is exported on purpose.
    pytest.mark.filterwarnings("ignore:You are using the legacy TorchScript-based ONNX export"),
]

CAPTURE = Path(__file__).parent.parent / "files" / "capture_torch.py"


def _capture() -> ModuleType:
    spec = importlib.util.spec_from_file_location("capture_torch", CAPTURE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["capture_torch"] = module
    spec.loader.exec_module(module)
    return module


def _small_cnn(torch: ModuleType) -> Any:
    nn = torch.nn

    class Small(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(16)
            self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16)
            self.se = nn.Sequential(
                nn.AdaptiveAvgPool2d(1), nn.Conv2d(16, 4, 1), nn.ReLU(), nn.Conv2d(4, 16, 1)
            )
            self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.fc = nn.Linear(16 * 8 * 8, 10)

        def forward(self, x: Any) -> Any:
            x = torch.relu(self.bn(self.stem(x)))
            x = self.dw(x)
            x = x * torch.sigmoid(self.se(x))
            return self.fc(torch.flatten(self.pool(x), 1))

    return Small()


def _models(torch: ModuleType) -> dict[str, tuple[Any, tuple[int, ...]]]:
    models = _capture().hand_models()
    models["small_cnn"] = (_small_cnn(torch), (1, 3, 32, 32))
    return models


@pytest.mark.parametrize("name", ["small_cnn", "hand_decoder", "hand_products"])
def test_exports_count_like_the_module(torch: ModuleType, tmp_path: Path, name: str) -> None:
    capture = _capture()
    model, shape = _models(torch)[name]
    capture.perturb(model)
    model.eval()
    x = torch.randn(*shape)
    truth = capture.truth(model, x)

    torch.export.save(torch.export.export(model, (x,)), tmp_path / "m.pt2")
    pt2 = load_file(tmp_path / "m.pt2")
    assert pt2.total_params == truth["total_params"]
    assert pt2.buffers == truth["buffers"]
    assert pt2.macs == truth["macs"]
    assert list(pt2.output_shape(pt2.layers[-1].output)) == truth["output_shape"]

    exporters = [True]  # the dynamo exporter takes seconds: one model
    if name == "small_cnn" and importlib.util.find_spec("onnxscript") is not None:
        exporters.append(False)
    for legacy in exporters:
        path = tmp_path / f"m{legacy}.onnx"
        torch.onnx.export(model, (x,), str(path), dynamo=not legacy)
        report = load_file(path)
        assert report.macs == truth["macs"], legacy
        convs = {n for n, m in model.named_modules() if type(m).__name__.startswith("Conv")}
        named = {la.name for la in report.layers if la.kind in ("conv", "depthwise", "transpose")}
        assert named == convs, legacy  # named by their modules, as in PyTorch
        assert report.total_params <= truth["total_params"]
        assert report.macs_exact

    torch.save(model.state_dict(), tmp_path / "m.pth")
    torch.save(model.state_dict(), tmp_path / "old.pth", _use_new_zipfile_serialization=False)
    for saved in ("m.pth", "old.pth"):  # the zip format and the one before PyTorch 1.6
        weights = load_file(tmp_path / saved)
        assert weights.total_params + weights.buffers == truth["total_params"] + truth["buffers"]
        assert weights.buffers == truth["buffers"]


@pytest.mark.parametrize("zipped", [True, False])
def test_a_whole_pickled_model_is_refused(torch: ModuleType, tmp_path: Path, zipped: bool) -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3))
    torch.save(model, tmp_path / "whole.pth", _use_new_zipfile_serialization=zipped)
    with pytest.raises(ConvcountError, match=r"torch\.nn\.modules\.container\.Sequential"):
        load_file(tmp_path / "whole.pth")


def test_a_program_with_open_sizes_counts_at_its_example(torch: ModuleType, tmp_path: Path) -> None:
    """torch.export records open sizes with their example values: counted there, per example."""
    capture = _capture()
    model = _small_cnn(torch).eval()
    x = torch.randn(2, 3, 32, 32)
    # The classifier's Linear fixes the spatial size; the batch stays open.
    program = torch.export.export(model, (x,), dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, tmp_path / "open.pt2")
    report = load_file(tmp_path / "open.pt2")
    truth = capture.truth(model, x[:1])
    assert report.macs == truth["macs"]
    assert report.total_params == truth["total_params"]
    assert any("example input" in note for note in report.notes)
    with pytest.raises(ConvcountError, match="example input"):
        load_file(tmp_path / "open.pt2", resolution="64")


def test_further_graph_inputs_are_rows_of_the_input_kind(torch: ModuleType, tmp_path: Path) -> None:
    """A network of two inputs (an image and a vector of features): the first is the
    summary's input, the second a row of the input kind that its readers connect to."""
    from torch.utils.flop_counter import FlopCounterMode

    class Two(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3)
            self.side = torch.nn.Linear(6, 5)
            self.fc = torch.nn.Linear(13, 4)

        def forward(self, image: Any, features: Any) -> Any:
            pooled = self.conv(image).mean((2, 3))
            return self.fc(torch.cat([pooled, self.side(features)], 1))

    model = Two().eval()
    args = (torch.randn(1, 3, 20, 24), torch.randn(1, 6))
    with FlopCounterMode(display=False) as counter:
        model(*args)
    macs = counter.get_total_flops() // 2
    params = sum(p.numel() for p in model.parameters())
    torch.export.save(torch.export.export(model, args), tmp_path / "two.pt2")
    torch.onnx.export(
        model, args, str(tmp_path / "two.onnx"), dynamo=False, input_names=["image", "features"]
    )
    torch.onnx.export(
        model,
        args,
        str(tmp_path / "open.onnx"),
        dynamo=False,
        input_names=["image", "features"],
        dynamic_axes={"image": {2: "h", 3: "w"}},
    )
    reports = [load_file(tmp_path / "two.pt2"), load_file(tmp_path / "two.onnx")]
    reports.append(load_file(tmp_path / "open.onnx", resolution="20x24"))
    for report in reports:
        assert (report.macs, report.total_params) == (macs, params), report.source
        assert report.input.spatial == (20, 24)
        first = report.layers[0]
        assert first.kind == "input" and report.output_shape(first.output) == (6,)
        side = next(layer for layer in report.layers if layer.name == "side")
        assert side.inputs == (first.name,)
    # the counters see the further input as no module at all
    import thop
    import torchinfo
    from ptflops import get_model_complexity_info

    from convcount.model.tools import count_as

    pt2 = reports[0]
    assert count_as(pt2, "thop").total == thop.profile(model, inputs=args, verbose=False)[0]
    info = torchinfo.summary(model, input_data=list(args), verbose=0)
    assert count_as(pt2, "torchinfo").total == info.total_mult_adds
    for backend, tool in (("pytorch", "ptflops-pytorch"), ("aten", "ptflops")):
        ptflops_macs, _ = get_model_complexity_info(
            model,
            (1,),
            input_constructor=lambda _: {"image": args[0], "features": args[1]},
            as_strings=False,
            print_per_layer_stat=False,
            backend=backend,
        )
        assert count_as(pt2, tool).total == ptflops_macs, tool
    with pytest.raises(ConvcountError, match="open sizes"):
        load_file(tmp_path / "open.onnx")
    with pytest.raises(ConvcountError, match="-r fills open sizes only"):
        load_file(tmp_path / "two.onnx", resolution="32")
