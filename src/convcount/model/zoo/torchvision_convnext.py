"""torchvision.models.convnext_tiny ... _large, as torchvision/models/convnext.py builds them.

One definition, the variants as torchvision's CNBlockConfig tables
(input channels, output channels of the downsampling after the stage, blocks).
What decides the counts:

* stem: Conv2d(3, C, 4, stride 4, bias) and LayerNorm2d (2C);
* CNBlock: a depthwise 7x7 conv with bias (padding 3), Permute to channels
  last, LayerNorm (2C), Linear C -> 4C, GELU, Linear 4C -> C (biases), Permute
  back, then the ``layer_scale`` parameter (C values, shape (C, 1, 1), held by
  the CNBlock module itself: here a layer_scale layer carrying the CNBlock's
  qualified name, e.g. ``features.1.0``), stochastic depth (nothing) and the
  residual add; the Linears act at every position, so their MACs are
  H * W * Cin * Cout;
* between stages: LayerNorm2d and Conv2d(k 2, stride 2, bias);
* head: average pooling, LayerNorm2d, Flatten, Linear.

Inside a CNBlock the LayerNorm and Linears see channels-last tensors, so their
output shapes are (H, W, C), as torchvision's Permute layers make them.
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec
from convcount.model.zoo.torchvision_mobilenetv2 import conv_norm_act

#: CNBlockConfig rows: input channels, output channels (None: no downsampling), blocks.
Setting = tuple[tuple[int, int | None, int], ...]

SETTINGS: dict[str, Setting] = {
    "tiny": ((96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)),
    "small": ((96, 192, 3), (192, 384, 3), (384, 768, 27), (768, None, 3)),
    "base": ((128, 256, 3), (256, 512, 3), (512, 1024, 27), (1024, None, 3)),
    "large": ((192, 384, 3), (384, 768, 3), (768, 1536, 27), (1536, None, 3)),
}

MODELS = {
    f"convnext_{size}": Model(224, {"setting": size}, twin=f"keras/convnext{size}")
    for size in SETTINGS
}
OPTIONS = (
    # The layer scale's initial value (1e-6): a value, not a shape, so it changes no count.
    Option("layer_scale", "neutral", None, "accepted; changes no count"),
)


def _cn_block(net: Net, x: str, name: str) -> str:
    """CNBlock: dw 7x7, LayerNorm, Linear 4x, GELU, Linear (channels last), layer_scale, add."""
    dim = net.channels(x)
    y = net.conv(x, dim, 7, 1, 3, groups=dim, bias=True, name=f"{name}.block.0")
    y = net.layer("permute", y, name=f"{name}.block.1", to="channels_last")
    y = net.layer("layer_norm", y, name=f"{name}.block.2")
    y = net.dense(y, 4 * dim, name=f"{name}.block.3")
    y = net.act(y, "gelu", name=f"{name}.block.4")
    y = net.dense(y, dim, name=f"{name}.block.5")
    y = net.layer("permute", y, name=f"{name}.block.6", to="channels_first")
    # The layer_scale parameter belongs to the CNBlock module: the layer takes its name.
    y = net.layer("layer_scale", y, name=name)
    y = net.layer("stochastic_depth", y, name=f"{name}.stochastic_depth")
    return net.add(y, x, name=f"{name}.add")


def build(spec: Spec) -> Net:
    net = spec.net()
    setting = SETTINGS[spec.args["setting"]]
    x = conv_norm_act(
        net,
        "input",
        "features.0",
        setting[0][0],
        4,
        4,
        padding=0,
        norm="layer_norm",
        norm_call="LayerNorm2d",
        activation=None,
        bias=True,
    )
    index = 1
    for _input_channels, out_channels, num_layers in setting:
        for i in range(num_layers):
            x = _cn_block(net, x, f"features.{index}.{i}")
        index += 1
        if out_channels is not None:
            # Downsampling: LayerNorm2d, then Conv2d(k 2, stride 2) with bias.
            x = net.layer("layer_norm", x, name=f"features.{index}.0", call="LayerNorm2d")
            x = net.conv(x, out_channels, 2, 2, 0, name=f"features.{index}.1")
            index += 1
    x = net.layer("adaptive_avg_pool", x, name="avgpool", output_size=1)
    x = net.layer("layer_norm", x, name="classifier.0", call="LayerNorm2d")
    x = net.layer("flatten", x, name="classifier.1")
    net.dense(x, spec.option("num_classes"), name="classifier.2")
    return net
