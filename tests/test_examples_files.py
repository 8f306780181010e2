"""examples/ without a framework: every file counts, and two equal shipped models.

The framework comparisons are in tests/frameworks/test_examples.py. ResNet-18
and EfficientNet-B0 are also in the zoo (checked there against torchvision's
captured figures), so the example files must give the same totals, and
ResNet-18, written with torchvision's layer names, the same layers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from convcount.model import load_file, load_model

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.stem)
def test_every_example_counts(path: Path) -> None:
    report = load_file(path)
    assert report.total_params > 0
    assert report.macs > 0


@pytest.mark.parametrize(
    ("example", "shipped"),
    [("resnet18", "torchvision/resnet18"), ("efficientnet_b0", "torchvision/efficientnet_b0")],
)
def test_examples_equal_the_shipped_models(example: str, shipped: str) -> None:
    ours, zoo = load_file(EXAMPLES / f"{example}.toml"), load_model(shipped)
    figures = ("total_params", "trainable_params", "buffers", "macs")
    assert [getattr(ours, f) for f in figures] == [getattr(zoo, f) for f in figures]
    assert ours.output_shape(ours.output) == zoo.output_shape(zoo.output)


def test_resnet18_has_torchvisions_layers() -> None:
    ours = load_file(EXAMPLES / "resnet18.toml")
    zoo = load_model("torchvision/resnet18")
    counted = {layer.name: (layer.params, layer.output) for layer in zoo.layers if layer.params}
    assert {
        layer.name: (layer.params, layer.output) for layer in ours.layers if layer.params
    } == counted
