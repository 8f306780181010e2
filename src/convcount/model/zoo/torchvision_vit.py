"""torchvision.models.vit_b_16 ... vit_h_14, as torchvision/models/vision_transformer.py has them.

One definition, the variants as the builders' arguments (patch size, layers,
heads, hidden and MLP sizes). What decides the counts:

* conv_proj: Conv2d(3, D, patch, stride patch, bias): the patch embedding;
  its (D, n, n) map is reshaped to n*n tokens of D and permuted to channels
  last, so every later shape reads [L, D] as torchvision's does;
* the class token (D parameters, owned by the VisionTransformer itself: the
  layer ``class_token``) is prepended, and the Encoder adds its position
  embedding ((n*n + 1) * D parameters: the layer carries the Encoder's name,
  ``encoder``);
* each EncoderBlock: LayerNorm (eps 1e-6), nn.MultiheadAttention (packed
  in_proj 3D*D + 3D and out_proj D*D + D, both in the ``self_attention``
  layer: torchvision calls out_proj through its weights, so it never runs as
  a module; MACs L*D*4D plus the q.k and attention.v products 2*L*L*D),
  Dropout, residual add, LayerNorm, MLPBlock (Linear D -> mlp, GELU, Dropout,
  Linear mlp -> D, Dropout), residual add;
* encoder.ln, the class token x[:, 0], and the heads: Linear(D, num_classes),
  or with ``representation_size`` R: Linear(D, R), Tanh, Linear(R, num_classes).

ViT interpolates nothing: the position embedding is sized by ``image_size``,
which the builder must be given, so ``--resolution`` is ``image_size`` (square,
a multiple of the patch size). vit_h_14's default weights (SWAG E2E) use 518.
"""

from __future__ import annotations

from convcount.errors import ConvcountError
from convcount.model.graph import Net
from convcount.model.zoo.common import Model, Option, Spec

#: patch size, layers, heads, hidden size, MLP size
ARCHS: dict[str, tuple[int, int, int, int, int]] = {
    "vit_b_16": (16, 12, 12, 768, 3072),
    "vit_b_32": (32, 12, 12, 768, 3072),
    "vit_l_16": (16, 24, 16, 1024, 4096),
    "vit_l_32": (32, 24, 16, 1024, 4096),
    "vit_h_14": (14, 32, 16, 1280, 5120),
}

MODELS = {name: Model(518 if name == "vit_h_14" else 224, {"arch": name}) for name in ARCHS}
#: What the builder passes to the model itself: a keyword of the same name is a TypeError.
FIXED = (
    "the vit_* builders set it themselves and torchvision refuses it as an option; "
    "another value is another network (write it as a model file)"
)
OPTIONS = (
    *(
        Option(name, "fixed", None, FIXED)
        for name in ("patch_size", "num_layers", "num_heads", "hidden_dim", "mlp_dim")
    ),
    Option("image_size", "int", None, "the image size the model is built for (= --resolution)"),
    Option("representation_size", "int", None, "a pre-logits Linear and Tanh of this size"),
    Option("attention_dropout", "neutral", None, "accepted; changes no count"),
)


def _image_size(spec: Spec, patch: int) -> int:
    """``image_size``: --resolution, or the option (which must then agree with it)."""
    h, w = spec.size
    given = spec.option("image_size")
    if given is not None:
        default = spec.model.resolution
        if (h, w) not in ((default, default), (given, given)):
            raise ConvcountError(
                "option",
                f"--option image_size={given} disagrees with --resolution {h}x{w} "
                f"({spec.name}'s image_size is its input size)",
            )
        h = w = given
    if h != w:
        raise ConvcountError(
            "resolution",
            f"--resolution {h}x{w}: {spec.name} takes a square image_size (ViT asserts it)",
        )
    if h % patch:
        raise ConvcountError(
            "resolution",
            f"--resolution {h}: {spec.name}'s image_size must be a multiple of its patch "
            f"size {patch} (torchvision asserts it)",
        )
    return h


def _encoder_block(net: Net, x: str, name: str, heads: int, mlp_dim: int) -> str:
    y = net.layer("layer_norm", x, name=f"{name}.ln_1")
    y = net.layer("attention", y, name=f"{name}.self_attention", heads=heads)
    y = net.layer("dropout", y, name=f"{name}.dropout")
    x = net.add(y, x, name=f"{name}.add_1")
    y = net.layer("layer_norm", x, name=f"{name}.ln_2")
    y = net.dense(y, mlp_dim, name=f"{name}.mlp.0")
    y = net.act(y, "gelu", name=f"{name}.mlp.1")
    y = net.layer("dropout", y, name=f"{name}.mlp.2")
    y = net.dense(y, net.channels(x), name=f"{name}.mlp.3")
    y = net.layer("dropout", y, name=f"{name}.mlp.4")
    return net.add(x, y, name=f"{name}.add_2")


def build(spec: Spec) -> Net:
    patch, layers, heads, hidden, mlp_dim = ARCHS[spec.args["arch"]]
    size = _image_size(spec, patch)
    net = Net(
        spec.name,
        (size, size),
        3,
        convention=spec.convention,
        dtype=spec.dtype,
        source=spec.name,
    )
    x = net.conv("input", hidden, patch, patch, 0, name="conv_proj")
    n = size // patch
    x = net.layer("reshape", x, name="reshape", shape=[hidden, n * n])
    x = net.layer("permute", x, name="permute", to="channels_last")
    x = net.layer("class_token", x, name="class_token")
    # The position embedding belongs to the Encoder: the layer takes its name.
    x = net.layer("position_embedding", x, name="encoder")
    x = net.layer("dropout", x, name="encoder.dropout")
    for i in range(layers):
        x = _encoder_block(net, x, f"encoder.layers.encoder_layer_{i}", heads, mlp_dim)
    x = net.layer("layer_norm", x, name="encoder.ln")
    x = net.layer("select_token", x, name="class_token_output", index=0)
    representation = spec.option("representation_size")
    if representation is not None:
        x = net.dense(x, representation, name="heads.pre_logits")
        x = net.act(x, "tanh", name="heads.act")
    net.dense(x, spec.option("num_classes"), name="heads.head")
    return net
