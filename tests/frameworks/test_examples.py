"""The networks in examples/ against the same networks written in PyTorch or Keras.

Each example is a model-language file; below it stands the framework code a
person would write for the same network (kept here, in one function per
example, so that its lines can be counted). Each test builds the framework
model, counts parameters, trainable parameters and buffers with the framework,
MACs with torch.utils.flop_counter.FlopCounterMode at batch 1 (total // 2) and
the output shape of every layer both name, and compares them with
``convcount model examples/X.toml --json``. One more test holds each file to
at most twice the non-blank lines of its framework code.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from math import prod
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.conftest import run

pytestmark = pytest.mark.frameworks

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


# ---------------------------------------------------------------------------
# The framework code, one function per example (its lines are counted)


def torch_resnet18() -> Any:
    from collections import OrderedDict

    from torch import nn

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, out: int, stride: int = 1) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(out)
            self.relu = nn.ReLU()
            self.conv2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(out)
            self.downsample = None
            if stride != 1 or cin != out:
                self.downsample = nn.Sequential(
                    nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out)
                )

        def forward(self, x: Any) -> Any:
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    def stage(cin: int, out: int, stride: int) -> nn.Module:
        return nn.Sequential(BasicBlock(cin, out, stride), BasicBlock(out, out))

    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(3, 64, 7, 2, 3, bias=False),
            bn1=nn.BatchNorm2d(64),
            relu=nn.ReLU(),
            maxpool=nn.MaxPool2d(3, 2, 1),
            layer1=stage(64, 64, 1),
            layer2=stage(64, 128, 2),
            layer3=stage(128, 256, 2),
            layer4=stage(256, 512, 2),
            avgpool=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(),
            fc=nn.Linear(512, 1000),
        )
    )


def torch_unet() -> Any:
    from collections import OrderedDict

    import torch
    import torch.nn.functional as F
    from torch import nn

    def double(cin: int, out: int) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(cin, out, 3, padding=1, bias=False),
            nn.BatchNorm2d(out),
            nn.ReLU(),
            nn.Conv2d(out, out, 3, padding=1, bias=False),
            nn.BatchNorm2d(out),
            nn.ReLU(),
        )

    def down(cin: int, out: int) -> nn.Module:
        return nn.Sequential(OrderedDict(pool=nn.MaxPool2d(2), conv=double(cin, out)))

    class Up(nn.Module):
        def __init__(self, cin: int, out: int) -> None:
            super().__init__()
            self.up = nn.ConvTranspose2d(cin, cin // 2, 2, stride=2)
            self.conv = double(cin, out)

        def forward(self, x: Any, skip: Any) -> Any:
            x = F.interpolate(self.up(x), size=skip.shape[2:])
            return self.conv(torch.cat([skip, x], 1))

    class UNet(nn.Module):
        def __init__(self, w: int = 16, classes: int = 2) -> None:
            super().__init__()
            self.inc = double(3, w)
            self.down1, self.down2 = down(w, 2 * w), down(2 * w, 4 * w)
            self.down3, self.down4 = down(4 * w, 8 * w), down(8 * w, 16 * w)
            self.up1, self.up2 = Up(16 * w, 8 * w), Up(8 * w, 4 * w)
            self.up3, self.up4 = Up(4 * w, 2 * w), Up(2 * w, w)
            self.outc = nn.Conv2d(w, classes, 1)

        def forward(self, x: Any) -> Any:
            x1 = self.inc(x)
            x2 = self.down1(x1)
            x3 = self.down2(x2)
            x4 = self.down3(x3)
            x = self.up1(self.down4(x4), x4)
            x = self.up3(self.up2(x, x3), x2)
            return self.outc(self.up4(x, x1))

    return UNet()


def torch_efficientnet_b0() -> Any:
    from torch import nn

    def cbn(cin: int, out: int, k: int = 1, stride: int = 1, groups: int = 1) -> nn.Sequential:
        conv = nn.Conv2d(cin, out, k, stride, k // 2, groups=groups, bias=False)
        return nn.Sequential(conv, nn.BatchNorm2d(out), nn.SiLU())

    class MBConv(nn.Module):
        def __init__(self, cin: int, expand: int, kernel: int, stride: int, out: int) -> None:
            super().__init__()
            mid, squeeze = cin * expand, max(1, cin // 4)
            self.expand = cbn(cin, mid) if expand != 1 else nn.Identity()
            self.dw = cbn(mid, mid, kernel, stride, groups=mid)
            self.se = nn.Sequential(
                nn.AdaptiveAvgPool2d(1),
                nn.Conv2d(mid, squeeze, 1),
                nn.SiLU(),
                nn.Conv2d(squeeze, mid, 1),
                nn.Sigmoid(),
            )
            self.project = nn.Sequential(nn.Conv2d(mid, out, 1, bias=False), nn.BatchNorm2d(out))
            self.residual = stride == 1 and cin == out

        def forward(self, x: Any) -> Any:
            y = self.dw(self.expand(x))
            y = self.project(y * self.se(y))
            return x + y if self.residual else y

    # expand ratio, kernel, stride, output channels, repeats
    stages = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3)]
    stages += [(6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
    layers, cin = [cbn(3, 32, 3, 2)], 32
    for expand, kernel, stride, out, repeats in stages:
        blocks = [
            MBConv(cin if j == 0 else out, expand, kernel, stride if j == 0 else 1, out)
            for j in range(repeats)
        ]
        layers.append(nn.Sequential(*blocks))
        cin = out
    layers.append(cbn(320, 1280))
    head = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, 1000)]
    return nn.Sequential(nn.Sequential(*layers), *head)


def keras_audio_m5(keras: Any) -> Any:
    layers = keras.layers
    inputs = keras.Input((16000, 1))
    x = inputs
    for i, (out, kernel, stride) in enumerate(
        [(128, 80, 4), (128, 3, 1), (256, 3, 1), (512, 3, 1)]
    ):
        x = layers.Conv1D(out, kernel, strides=stride, name=f"b{i + 1}_conv")(x)
        x = layers.BatchNormalization(name=f"b{i + 1}_bn")(x)
        x = layers.ReLU(name=f"b{i + 1}_relu")(x)
        x = layers.MaxPooling1D(4, name=f"b{i + 1}_pool")(x)
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, layers.Dense(35, name="fc")(x))


def torch_c3d() -> Any:
    from collections import OrderedDict

    from torch import nn

    def stage(cin: int, out: int, pool: Any = 2) -> nn.Module:
        return nn.Sequential(
            nn.Conv3d(cin, out, 3, padding=1), nn.BatchNorm3d(out), nn.ReLU(), nn.MaxPool3d(pool)
        )

    return nn.Sequential(
        OrderedDict(
            stage1=stage(3, 32, (1, 2, 2)),
            stage2=stage(32, 64),
            stage3=stage(64, 128),
            stage4=stage(128, 256),
            pool=nn.AdaptiveAvgPool3d(1),
            flatten=nn.Flatten(),
            fc=nn.Linear(256, 10),
        )
    )


def torch_deeplab_head() -> Any:
    import torch
    import torch.nn.functional as F
    from torch import nn

    def cbr(cin: int, out: int, k: int = 3, stride: int = 1, dilation: int = 1) -> nn.Module:
        padding = dilation * (k // 2)
        return nn.Sequential(
            nn.Conv2d(cin, out, k, stride, padding, dilation, bias=False),
            nn.BatchNorm2d(out),
            nn.ReLU(),
        )

    class DeepLab(nn.Module):
        def __init__(self, classes: int = 21) -> None:
            super().__init__()
            self.backbone = nn.Sequential(
                cbr(3, 32, stride=2),
                cbr(32, 64, stride=2),
                cbr(64, 128, stride=2),
                cbr(128, 256, stride=2),
            )
            self.aspp = nn.ModuleList(
                [cbr(256, 128, 1)] + [cbr(256, 128, dilation=d) for d in (6, 12, 18)]
            )
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), cbr(256, 128, 1))
            self.project = cbr(5 * 128, 128, 1)
            self.head = nn.Sequential(cbr(128, 128), nn.Conv2d(128, classes, 1))

        def forward(self, x: Any) -> Any:
            f = self.backbone(x)
            pooled = F.interpolate(self.pool(f), size=f.shape[2:], mode="bilinear")
            y = self.project(torch.cat([branch(f) for branch in self.aspp] + [pooled], 1))
            return F.interpolate(self.head(y), size=x.shape[2:], mode="bilinear")

    return DeepLab()


def single_uses(name: str) -> str:
    """Our name of a layer as the framework spells it, where each block is used once.

    A block use numbers its repeats (``inc.0.3``: use inc, repeat 0, layer 3);
    the framework code has no repeat there (``inc.3``).
    """
    return re.sub(r"\.0(?=\.)", "", name)


def deeplab_names(name: str) -> str:
    """The same for the DeepLab head, whose use names end in a digit of their own."""
    return re.sub(r"^(backbone\.\d|aspp\.\d|pool\.1|project|head\.0)\.0\.", r"\1.", name)


def same(name: str) -> str:
    return name


class Case(NamedTuple):
    framework: str
    make: Callable[..., Any]
    """The framework code that builds the network."""
    shape: tuple[int, ...]
    """The input, without the batch."""
    rename: Callable[[str], str] = same
    """Our layer name -> the framework's, for the shape comparison."""


CASES: dict[str, Case] = {
    "resnet18": Case("torch", torch_resnet18, (3, 224, 224)),
    "unet": Case("torch", torch_unet, (3, 101, 75), single_uses),
    "efficientnet_b0": Case("torch", torch_efficientnet_b0, (3, 224, 224)),
    "audio_m5": Case("keras", keras_audio_m5, (16000, 1), single_uses),
    "c3d": Case("torch", torch_c3d, (3, 16, 112, 112), single_uses),
    "deeplab_head": Case("torch", torch_deeplab_head, (3, 129, 97), deeplab_names),
}


# ---------------------------------------------------------------------------
# Counting with the frameworks


def convcount_json(name: str) -> dict[str, Any]:
    result = run("model", str(EXAMPLES / f"{name}.toml"), "--json")
    assert result.exit_code == 0, result.stderr
    record: dict[str, Any] = json.loads(result.stdout)
    return record


def torch_figures(torch: Any, model: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    from torch.utils.flop_counter import FlopCounterMode

    shapes: dict[str, tuple[int, ...]] = {}
    for name, module in model.named_modules():
        if name:
            module.register_forward_hook(
                lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))
            )
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model.eval()(torch.zeros(1, *shape))
    params = list(model.parameters())
    return {
        "total_params": sum(p.numel() for p in params),
        "trainable_params": sum(p.numel() for p in params if p.requires_grad),
        "buffers": sum(b.numel() for b in model.buffers()),
        "macs": counter.get_total_flops() // 2,
        "output": tuple(out.shape[1:]),
        "shapes": shapes,
    }


def keras_figures(torch: Any, model: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model(torch.zeros((1, *shape)), training=False)
    return {
        "total_params": model.count_params(),
        "trainable_params": sum(prod(w.shape) for w in model.trainable_weights),
        "buffers": 0,
        "macs": counter.get_total_flops() // 2,
        "output": tuple(out.shape[1:]),
        # Keras's torch backend refuses '.' in layer names: ours are matched with '_'
        # (layers with weights: the others may carry Keras's automatic names)
        "shapes": {
            layer.name: tuple(layer.output.shape[1:]) for layer in model.layers if layer.weights
        },
    }


@pytest.mark.parametrize("name", list(CASES))
def test_example_matches_the_framework(
    name: str, torch: Any, request: pytest.FixtureRequest
) -> None:
    case = CASES[name]
    if case.framework == "torch":
        theirs = torch_figures(torch, case.make(), case.shape)
    else:
        keras = request.getfixturevalue("keras")
        keras.backend.clear_session()
        theirs = keras_figures(torch, case.make(keras), case.shape)
    ours = convcount_json(name)
    assert tuple(ours["input_shape"]) == case.shape
    figures = ("total_params", "trainable_params", "buffers", "macs")
    assert {k: ours[k] for k in figures} == {k: theirs[k] for k in figures}
    assert tuple(ours["layers"][-1]["output_shape"]) == theirs["output"]
    by_name = {}
    for layer in ours["layers"]:
        spelled = case.rename(layer["name"])
        by_name[spelled.replace(".", "_") if case.framework == "keras" else spelled] = layer
    for n in set(theirs["shapes"]) & set(by_name):
        assert tuple(by_name[n]["output_shape"]) == theirs["shapes"][n], n
    # every layer of ours that holds parameters is a framework layer of the same name
    counted = {n for n, layer in by_name.items() if layer["params"]}
    assert counted <= set(theirs["shapes"]), sorted(counted - set(theirs["shapes"]))[:5]


def non_blank(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip())


@pytest.mark.parametrize("name", list(CASES))
def test_example_is_at_most_twice_its_framework_code(name: str) -> None:
    ours = non_blank((EXAMPLES / f"{name}.toml").read_text())
    theirs = non_blank(inspect.getsource(CASES[name].make))
    assert ours <= 2 * theirs, f"{name}.toml: {ours} lines, framework code {theirs}"


@pytest.mark.parametrize("name", ["unet", "deeplab_head"])
@pytest.mark.parametrize("size", [(64, 47), (37, 99)])
def test_decoders_are_exact_at_any_input_size(name: str, size: tuple[int, int], torch: Any) -> None:
    case = CASES[name]
    theirs = torch_figures(torch, case.make(), (3, *size))
    result = run("model", str(EXAMPLES / f"{name}.toml"), "--json", "-r", "x".join(map(str, size)))
    assert result.exit_code == 0, result.stderr
    ours = json.loads(result.stdout)
    assert (ours["total_params"], ours["macs"]) == (theirs["total_params"], theirs["macs"])
    assert (
        tuple(ours["layers"][-1]["output_shape"])
        == theirs["output"]
        == (2 if name == "unet" else 21, *size)  # classes at the input's size
    )
