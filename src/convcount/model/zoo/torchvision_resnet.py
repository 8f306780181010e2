"""torchvision's ResNet, ResNeXt and Wide ResNet (torchvision/models/resnet.py, 0.29.1).

What decides the counts:

* the stem is a bias-free 7x7/2 conv (padding 3), BatchNorm2d, ReLU and a
  3x3/2 max pool (padding 1); four stages of 64, 128, 256, 512 ``planes``,
  the last three starting with stride 2; then global average pooling and
  ``fc`` = Linear(512 * expansion, num_classes);
* BasicBlock (expansion 1): two 3x3 convs; Bottleneck (expansion 4, "ResNet
  v1.5"): 1x1, 3x3 (carrying the stride, the groups and the dilation), 1x1,
  with width ``int(planes * (width_per_group / 64.0)) * groups``: ResNeXt
  sets groups and width_per_group, Wide ResNet width_per_group 128;
* every conv is bias-free, padding = dilation on the 3x3s; a stage's first
  block has ``downsample`` (1x1 conv with the stride, BatchNorm2d) when the
  stride is not 1 or the channels change;
* ``replace_stride_with_dilation`` turns a stage's stride into dilation: its
  first block keeps the previous dilation, the later ones take the new one
  (only Bottleneck allows it).

Every BatchNorm2d holds 2C parameters and 2C+1 buffers.
"""

from __future__ import annotations

from itertools import product

from convcount.errors import ConvcountError
from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec


class FlagsOption(Option):
    """A choice of three booleans, ``false,true,true``; also takes a Python list of bools."""

    def parse(self, text: object) -> object:
        if isinstance(text, (list, tuple)) and all(isinstance(v, bool) for v in text):
            text = ",".join(str(v) for v in text)
        return Option.parse(self, str(text).replace(" ", "").strip("[]()"))


def _model(
    block: str, layers: tuple[int, int, int, int], twin: str, groups: int = 1, width: int = 64
) -> Model:
    return Model(
        224,
        {"block": block, "layers": layers, "groups": groups, "width_per_group": width},
        twin=twin,
    )


MODELS = {
    "resnet18": _model("basic", (2, 2, 2, 2), "keras/resnet50"),
    "resnet34": _model("basic", (3, 4, 6, 3), "keras/resnet50"),
    "resnet50": _model("bottleneck", (3, 4, 6, 3), "keras/resnet50"),
    "resnet101": _model("bottleneck", (3, 4, 23, 3), "keras/resnet101"),
    "resnet152": _model("bottleneck", (3, 8, 36, 3), "keras/resnet152"),
    "resnext50_32x4d": _model("bottleneck", (3, 4, 6, 3), "keras/resnet50", 32, 4),
    "resnext101_32x8d": _model("bottleneck", (3, 4, 23, 3), "keras/resnet101", 32, 8),
    "resnext101_64x4d": _model("bottleneck", (3, 4, 23, 3), "keras/resnet101", 64, 4),
    "wide_resnet50_2": _model("bottleneck", (3, 4, 6, 3), "keras/resnet50", width=128),
    "wide_resnet101_2": _model("bottleneck", (3, 4, 23, 3), "keras/resnet101", width=128),
}
OPTIONS: tuple[Option, ...] = (
    Option(
        "groups",
        "int",
        None,
        "groups of the Bottleneck 3x3 convs (default: the variant's; the ResNeXt and "
        "Wide ResNet builders fix it)",
    ),
    Option(
        "width_per_group",
        "int",
        None,
        "Bottleneck width per group, 64 being plain ResNet (default: the variant's; the "
        "ResNeXt and Wide ResNet builders fix it)",
    ),
    FlagsOption(
        "replace_stride_with_dilation",
        "choice",
        None,
        "dilation instead of stride in stages 2, 3, 4, e.g. false,true,true "
        "(Bottleneck variants only)",
        tuple(",".join(flags) for flags in product(("false", "true"), repeat=3)),
    ),
)

EXPANSION = {"basic": 1, "bottleneck": 4}


def _fixed(spec: Spec, option: str) -> int:
    """A builder argument: the option when given, else the variant's own value.

    The resnext and wide_resnet builders set groups and width_per_group
    themselves (``_ovewrite_named_param``), refusing any other value.
    """
    own: int = spec.args[option]
    given = spec.option(option)
    if given is None:
        return own
    if spec.variant.startswith(("resnext", "wide")) and given != own:
        raise ConvcountError(
            "option", f"--option {option}: {spec.name} fixes {option} at {own}, got {given}"
        )
    return int(given)


def build(spec: Spec) -> Net:
    block: str = spec.args["block"]
    expansion = EXPANSION[block]
    groups = _fixed(spec, "groups")
    base_width = _fixed(spec, "width_per_group")
    flags = spec.option("replace_stride_with_dilation")
    dilate = [False] + [f == "true" for f in flags.split(",")] if flags else [False] * 4
    if block == "basic" and (groups != 1 or base_width != 64):
        raise ConvcountError(
            "option",
            f"--option groups/width_per_group: {spec.name}'s BasicBlock only "
            "supports groups=1 and width_per_group=64",
        )

    net = spec.net()
    x = net.conv("input", 64, 7, 2, 3, bias=False, name="conv1")
    x = net.bn(x, name="bn1")
    x = net.act(x, "relu", name="relu")
    x = net.layer("max_pool", x, name="maxpool", pool_size=3, stride=2, padding=1)
    inplanes, dilation = 64, 1
    for stage, (planes, blocks) in enumerate(
        zip((64, 128, 256, 512), spec.args["layers"], strict=True)
    ):
        stride = 1 if stage == 0 else 2
        previous_dilation = dilation
        if dilate[stage]:
            dilation *= stride
            stride = 1
        for index in range(blocks):
            name = f"layer{stage + 1}.{index}"
            first = index == 0
            d = previous_dilation if first else dilation
            s = stride if first else 1
            if block == "basic" and d > 1:
                raise ConvcountError(
                    "option",
                    f"--option replace_stride_with_dilation: {spec.name}'s "
                    "BasicBlock does not support dilation",
                )
            shortcut = x
            if block == "basic":
                y = net.conv(x, planes, 3, s, 1, bias=False, name=f"{name}.conv1")
                y = net.bn(y, name=f"{name}.bn1")
                y = net.act(y, "relu", name=f"{name}.relu")
                y = net.conv(y, planes, 3, 1, 1, bias=False, name=f"{name}.conv2")
                y = net.bn(y, name=f"{name}.bn2")
            else:
                width = int(planes * (base_width / 64.0)) * groups
                y = net.conv(x, width, 1, bias=False, name=f"{name}.conv1")
                y = net.bn(y, name=f"{name}.bn1")
                y = net.act(y, "relu", name=f"{name}.relu")
                y = net.conv(
                    y, width, 3, s, d, dilation=d, groups=groups, bias=False, name=f"{name}.conv2"
                )
                y = net.bn(y, name=f"{name}.bn2")
                y = net.act(y, "relu", name=f"{name}.relu#2")
                y = net.conv(y, planes * expansion, 1, bias=False, name=f"{name}.conv3")
                y = net.bn(y, name=f"{name}.bn3")
            if first and (stride != 1 or inplanes != planes * expansion):
                shortcut = net.conv(
                    x, planes * expansion, 1, stride, bias=False, name=f"{name}.downsample.0"
                )
                shortcut = net.bn(shortcut, name=f"{name}.downsample.1")
            x = net.add(y, shortcut, name=f"{name}.add")
            x = net.act(x, "relu", name=f"{name}.relu#{2 if block == 'basic' else 3}")
            inplanes = planes * expansion
    x = net.layer("adaptive_avg_pool", x, name="avgpool", output_size=1)
    x = net.layer("flatten", x, name="flatten")
    net.dense(x, spec.option("num_classes"), name="fc")
    return net
