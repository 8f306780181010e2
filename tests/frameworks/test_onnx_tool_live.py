"""onnx-tool runs live in CI on small PyTorch networks exported by both ONNX exporters:
convcount's --count-as onnx-tool must print its figures, per node and in total."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from convcount.errors import ConvcountError
from convcount.model import load_model
from convcount.model.tools import count_as
from tests.frameworks.conftest import _framework
from tests.tools.nets import NETS

CASES = [
    ("decoder", True),
    ("grouped1d", True),
    ("residual", True),
    ("decoder", False),
    ("recurrent", True),
    ("recurrent", False),
    ("attention", True),
    ("attention", False),
    ("norms", True),
    ("norms", False),
]


def _recurrent(torch: ModuleType) -> tuple[object, object]:
    """An LSTM and a GRU, batch first, and a Linear on the last step."""

    class Recurrent(torch.nn.Module):  # type: ignore[name-defined,misc]  # torch is untyped here
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(8, 16, batch_first=True)
            self.gru = torch.nn.GRU(16, 12, batch_first=True)
            self.head = torch.nn.Linear(12, 3)

        def forward(self, x: Any) -> Any:
            y, _ = self.lstm(x)
            y, _ = self.gru(y)
            return self.head(y[:, -1])

    return Recurrent(), torch.rand(1, 5, 8)


def _attention(torch: ModuleType) -> tuple[object, object]:
    """Token ids through an embedding and a transformer encoder layer (its shape
    computations run through onnx-tool's numpy evaluation)."""
    nn = torch.nn

    class Attention(nn.Module):  # type: ignore[name-defined,misc]  # torch is untyped here
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(100, 32)
            self.enc = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True, activation="gelu")
            self.head = nn.Linear(32, 5)

        def forward(self, ids: Any) -> Any:
            return self.head(self.enc(self.emb(ids)).mean(1))

    return Attention(), torch.randint(0, 100, (1, 7))


def _norms(torch: ModuleType) -> tuple[object, object]:
    """GroupNorm, InstanceNorm, PixelShuffle, interpolations, SiLU, Mish (which the dynamo
    exporter keeps as a Mish node, on which onnx-tool stops), a ceil-mode max pool."""
    nn, F = torch.nn, torch.nn.functional

    class Norms(nn.Module):  # type: ignore[name-defined,misc]  # torch is untyped here
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 3, padding=1)
            self.gn = nn.GroupNorm(4, 16)
            self.inorm = nn.InstanceNorm2d(16, affine=True)
            self.shuffle = nn.PixelShuffle(2)
            self.down = nn.Conv2d(4, 8, 3, stride=2, padding=1)
            self.pool = nn.AdaptiveAvgPool2d((2, 2))
            self.fc = nn.Linear(32, 4)

        def forward(self, x: Any) -> Any:
            y = F.mish(self.inorm(F.silu(self.gn(self.conv(x)))))
            y = F.interpolate(self.shuffle(y), scale_factor=2, mode="nearest")
            y = F.interpolate(self.down(y), size=(20, 20), mode="bilinear")
            y = F.max_pool2d(F.gelu(y, approximate="tanh"), 3, 2, ceil_mode=True)
            return torch.softmax(self.fc(self.pool(y).flatten(1)), -1)

    return Norms(), torch.rand(1, 3, 16, 16)


BUILDERS = {"recurrent": _recurrent, "attention": _attention, "norms": _norms}


@pytest.mark.frameworks
@pytest.mark.parametrize(("name", "legacy"), CASES)
def test_live(name: str, legacy: bool, tmp_path: Path, torch: ModuleType) -> None:
    onnx_tool = _framework("onnx_tool")
    if not legacy and importlib.util.find_spec("onnxscript") is None:
        pytest.skip("the dynamo exporter needs onnxscript")
    model, x = BUILDERS[name](torch) if name in BUILDERS else NETS[name].build()
    model.eval()  # type: ignore[attr-defined]  # a torch module
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=not legacy)
        m = onnx_tool.Model(str(path))
        graph = m.graph
        try:
            graph.shape_infer()
            graph.profile()
        except Exception as error:  # onnx-tool stops: convcount must refuse
            stopped: Exception | None = error
        else:
            stopped = None
    report = load_model(str(path))
    if stopped is not None:
        # the dynamo exporter's GRU keeps one output, onnx-tool writes two (IndexError);
        # its Mish stays a Mish, which onnx-tool has no class for
        with pytest.raises(ConvcountError, match=r"onnx-tool stops|stops there"):
            count_as(report, "onnx-tool")
        return
    got = count_as(report, "onnx-tool")
    want = [
        (key, node.op_type, int(node.macs[0]), int(node.memory), int(node.params))
        for key, node in graph.nodemap.items()
    ]
    assert [
        (r.name, r.extra["op"], r.figure, r.extra["memory"], r.extra["params"])
        for r in got.layers
        if r.extra is not None
    ] == want
    assert got.total == round(graph.macs[0])
    assert got.params == graph.params
    assert got.memory == {"memory_bytes": graph.memory}


@pytest.mark.frameworks
def test_an_op_it_stops_on(tmp_path: Path, torch: ModuleType) -> None:
    """torch.asin exports as Asin, which onnx-tool has no class for: it stops, convcount
    refuses naming the node."""
    onnx_tool = _framework("onnx_tool")

    class Asin(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)

        def forward(self, x: object) -> object:
            return torch.asin(self.conv(x))

    model = Asin()
    path = tmp_path / "asin.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.rand(1, 3, 8, 8),), str(path), dynamo=False)
        m = onnx_tool.Model(str(path))
        with pytest.raises(NotImplementedError):
            m.graph.shape_infer()
    with pytest.raises(ConvcountError, match=r"\(Asin\): onnx-tool 1\.0\.1 has no class for Asin"):
        count_as(load_model(str(path)), "onnx-tool")
