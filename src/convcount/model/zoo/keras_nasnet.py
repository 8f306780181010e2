"""keras.applications.NASNetLarge / NASNetMobile, as keras/src/applications/nasnet.py builds them.

One definition, ``NASNet(penultimate_filters, num_blocks, stem_block_filters,
skip_reduction, filter_multiplier=2)``; the two variants are its two argument rows.
(Keras refuses to build NASNetMobile on the torch backend; its arguments are those
NASNetMobile passes to NASNet, and the graph is the same code path.) What decides
the counts:

* ``filters = penultimate_filters // 24``; the stem conv (3x3, stride 2, 'valid', no
  bias) then two reduction cells at ``filters // 4`` and ``filters // 2``, then three
  groups of ``num_blocks`` normal cells at ``filters``, ``2 filters``, ``4 filters``,
  with a reduction cell before the second and third group;
* a separable block is ReLU, SeparableConv2D (``use_bias=False``: neither step has a
  bias), BN, ReLU, SeparableConv2D, BN; a stride-2 one is 'valid' after
  ZeroPadding2D(correct_pad(x, kernel));
* every cell first adjusts the previous cell's output ``p`` to the current one: when
  their widths differ (Keras compares the width only), two 1x1 convs of
  ``filters // 2`` on stride-2 1x1 average pools (the second shifted by ZeroPadding
  and Cropping) are concatenated and batch-normalised; when only the channels differ,
  a 1x1 conv and BN project it;
* ``skip_reduction`` (Large) keeps feeding the cell before a reduction as ``p`` to
  the cell after it; Mobile feeds the reduction cell's input.
"""

from __future__ import annotations

from convcount.model.graph import Net
from convcount.model.zoo.common import KerasNames, Model, Spec, correct_pad, keras_top

MODELS = {
    "nasnetlarge": Model(
        331,
        {
            "penultimate_filters": 4032,
            "num_blocks": 6,
            "stem_block_filters": 96,
            "skip_reduction": True,
        },
    ),
    "nasnetmobile": Model(
        224,
        {
            "penultimate_filters": 1056,
            "num_blocks": 4,
            "stem_block_filters": 32,
            "skip_reduction": False,
        },
    ),
}
OPTIONS = ()

FILTER_MULTIPLIER = 2


class _Builder(KerasNames):
    """The cells of one NASNet; the layers Keras leaves unnamed get its automatic names."""

    def relu(self, x: str) -> str:
        """An unnamed ``Activation("relu")``: ``activation``, ``activation_1``, ..."""
        return self.net.act(x, "relu", name=self.name("activation"))

    def bn(self, x: str, name: str) -> str:
        return self.net.bn(x, name=name)

    def conv1x1(self, x: str, filters: int, name: str) -> str:
        return self.net.conv(x, filters, 1, 1, "same", bias=False, name=name)

    def separable_block(self, x: str, filters: int, kernel: int, stride: int, block_id: str) -> str:
        net = self.net
        x = self.relu(x)
        if stride == 2:
            pad = correct_pad(net, x, kernel)
            x = net.layer("zero_padding", x, name=f"separable_conv_1_pad_{block_id}", padding=pad)
        x = net.layer(
            "separable",
            x,
            name=f"separable_conv_1_{block_id}",
            kernel_size=kernel,
            out_channels=filters,
            stride=stride,
            padding="valid" if stride == 2 else "same",
            depthwise_bias=False,
            pointwise_bias=False,
        )
        x = self.bn(x, f"separable_conv_1_bn_{block_id}")
        x = self.relu(x)
        x = net.layer(
            "separable",
            x,
            name=f"separable_conv_2_{block_id}",
            kernel_size=kernel,
            out_channels=filters,
            padding="same",
            depthwise_bias=False,
            pointwise_bias=False,
        )
        return self.bn(x, f"separable_conv_2_bn_{block_id}")

    def adjust(self, p: str | None, ip: str, filters: int, block_id: str) -> str:
        net = self.net
        if p is None:
            return ip
        if net.shape(p).spatial[1] != net.shape(ip).spatial[1]:  # Keras: shape[-2], the width
            p = net.act(p, "relu", name=f"adjust_relu_1_{block_id}")
            p1 = net.layer(
                "avg_pool", p, name=f"adjust_avg_pool_1_{block_id}", pool_size=1, stride=2
            )
            p1 = self.conv1x1(p1, filters // 2, f"adjust_conv_1_{block_id}")
            p2 = net.layer(
                "zero_padding", p, name=self.name("zero_padding2d"), padding=((0, 1), (0, 1))
            )
            p2 = net.layer("cropping", p2, name=self.name("cropping2d"), cropping=((1, 0), (1, 0)))
            p2 = net.layer(
                "avg_pool", p2, name=f"adjust_avg_pool_2_{block_id}", pool_size=1, stride=2
            )
            p2 = self.conv1x1(p2, filters // 2, f"adjust_conv_2_{block_id}")
            p = net.concat(p1, p2, name=self.name("concatenate"))
            return self.bn(p, f"adjust_bn_{block_id}")
        if net.channels(p) != filters:
            p = self.relu(p)
            p = self.conv1x1(p, filters, f"adjust_conv_projection_{block_id}")
            return self.bn(p, f"adjust_bn_{block_id}")
        return p

    def window(self, kind: str, x: str, stride: int, padding: str, name: str) -> str:
        return self.net.layer(kind, x, name=name, pool_size=3, stride=stride, padding=padding)

    def normal_cell(self, ip: str, p: str | None, filters: int, block_id: str) -> tuple[str, str]:
        net = self.net
        p = self.adjust(p, ip, filters, block_id)
        h = self.relu(ip)
        h = self.conv1x1(h, filters, f"normal_conv_1_{block_id}")
        h = self.bn(h, f"normal_bn_1_{block_id}")
        x1_1 = self.separable_block(h, filters, 5, 1, f"normal_left1_{block_id}")
        x1_2 = self.separable_block(p, filters, 3, 1, f"normal_right1_{block_id}")
        x1 = net.add(x1_1, x1_2, name=f"normal_add_1_{block_id}")
        x2_1 = self.separable_block(p, filters, 5, 1, f"normal_left2_{block_id}")
        x2_2 = self.separable_block(p, filters, 3, 1, f"normal_right2_{block_id}")
        x2 = net.add(x2_1, x2_2, name=f"normal_add_2_{block_id}")
        x3 = self.window("avg_pool", h, 1, "same", f"normal_left3_{block_id}")
        x3 = net.add(x3, p, name=f"normal_add_3_{block_id}")
        x4_1 = self.window("avg_pool", p, 1, "same", f"normal_left4_{block_id}")
        x4_2 = self.window("avg_pool", p, 1, "same", f"normal_right4_{block_id}")
        x4 = net.add(x4_1, x4_2, name=f"normal_add_4_{block_id}")
        x5 = self.separable_block(h, filters, 3, 1, f"normal_left5_{block_id}")
        x5 = net.add(x5, h, name=f"normal_add_5_{block_id}")
        x = net.concat(p, x1, x2, x3, x4, x5, name=f"normal_concat_{block_id}")
        return x, ip

    def reduction_cell(
        self, ip: str, p: str | None, filters: int, block_id: str
    ) -> tuple[str, str]:
        net = self.net
        p = self.adjust(p, ip, filters, block_id)
        h = self.relu(ip)
        h = self.conv1x1(h, filters, f"reduction_conv_1_{block_id}")
        h = self.bn(h, f"reduction_bn_1_{block_id}")
        pad = correct_pad(net, h, 3)
        h3 = net.layer("zero_padding", h, name=f"reduction_pad_1_{block_id}", padding=pad)
        x1_1 = self.separable_block(h, filters, 5, 2, f"reduction_left1_{block_id}")
        x1_2 = self.separable_block(p, filters, 7, 2, f"reduction_right1_{block_id}")
        x1 = net.add(x1_1, x1_2, name=f"reduction_add_1_{block_id}")
        x2_1 = self.window("max_pool", h3, 2, "valid", f"reduction_left2_{block_id}")
        x2_2 = self.separable_block(p, filters, 7, 2, f"reduction_right2_{block_id}")
        x2 = net.add(x2_1, x2_2, name=f"reduction_add_2_{block_id}")
        x3_1 = self.window("avg_pool", h3, 2, "valid", f"reduction_left3_{block_id}")
        x3_2 = self.separable_block(p, filters, 5, 2, f"reduction_right3_{block_id}")
        x3 = net.add(x3_1, x3_2, name=f"reduction_add3_{block_id}")
        x4 = self.window("avg_pool", x1, 1, "same", f"reduction_left4_{block_id}")
        x4 = net.add(x2, x4, name=self.name("add"))
        x5_1 = self.separable_block(x1, filters, 3, 1, f"reduction_left4_{block_id}")
        x5_2 = self.window("max_pool", h3, 2, "valid", f"reduction_right5_{block_id}")
        x5 = net.add(x5_1, x5_2, name=f"reduction_add4_{block_id}")
        x = net.concat(x2, x3, x4, x5, name=f"reduction_concat_{block_id}")
        return x, ip


def build(spec: Spec) -> Net:
    net = spec.net()
    cells = _Builder(net)
    num_blocks: int = spec.args["num_blocks"]
    skip_reduction: bool = spec.args["skip_reduction"]
    m = FILTER_MULTIPLIER
    filters = spec.args["penultimate_filters"] // 24
    x = net.conv(
        "input", spec.args["stem_block_filters"], 3, 2, "valid", bias=False, name="stem_conv1"
    )
    x = net.bn(x, name="stem_bn1")
    p: str | None = None
    x, p = cells.reduction_cell(x, p, filters // m**2, "stem_1")
    x, p = cells.reduction_cell(x, p, filters // m, "stem_2")
    for group in range(3):
        if group:
            reduced = cells.reduction_cell(x, p, filters * m**group, f"reduce_{group * num_blocks}")
            x, p = reduced[0], p if skip_reduction else reduced[1]
        for i in range(num_blocks):
            block_id = f"{group * num_blocks + i + (1 if group else 0)}"
            x, p = cells.normal_cell(x, p, filters * m**group, block_id)
    x = cells.relu(x)
    keras_top(net, x, spec, pool=None, named_pooling=False)
    return net
