"""Fuzzing the ONNX, torch.export and weight-file readers: hostile files, one line each.

Every real fixture of tests/files/torch/ is truncated, has bytes overwritten,
and is rebuilt with hostile parts (protobuf lengths past the end, nesting
thousands deep, huge claimed sizes, forbidden pickle globals, garbage
headers). Each must give a report or one ConvcountError naming the file,
never another exception, in bounded time; the CLI turns it into exit 2 and
one line on stderr.
"""

from __future__ import annotations

import io
import json
import struct
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from convcount.errors import ConvcountError
from convcount.model import load_file

from .conftest import run

FIXTURES = Path(__file__).parent / "files" / "torch"
ONNX = [*sorted(FIXTURES.glob("hand_*.onnx")), FIXTURES / "resnet18.legacy.onnx"]
PT2 = sorted(FIXTURES.glob("hand_*.pt2"))
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SECONDS = 5.0


def _counts_or_refuses(path: Path) -> None:
    """A report, or one ConvcountError that names the file; quickly."""
    start = time.perf_counter()
    try:
        load_file(path, resolution="32")
    except ConvcountError as error:
        assert str(path) in str(error) or "--resolution" in str(error), str(error)
        assert "\n" not in str(error)
    assert time.perf_counter() - start < SECONDS


def _cli_refuses(path: Path, *words: str) -> None:
    result = run("model", str(path))
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@FUZZ
@given(
    source=st.sampled_from(ONNX + PT2),
    cut=st.floats(0, 1),
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=8),
)
def test_damaged_files_never_crash(
    tmp_path_factory: pytest.TempPathFactory,
    source: Path,
    cut: float,
    edits: list[tuple[float, int]],
) -> None:
    data = bytearray(source.read_bytes())
    if source.suffix == ".pt2":  # damage the program, not the zip around it
        with zipfile.ZipFile(source) as archive:
            name = next(n for n in archive.namelist() if n.endswith("models/model.json"))
            members = {n: archive.read(n) for n in archive.namelist()}
        program = bytearray(members[name])
        for where, value in edits:
            program[int(where * (len(program) - 1))] = value
        members[name] = bytes(program[: max(1, int(cut * len(program)))])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for member, content in members.items():
                archive.writestr(member, content)
        data = bytearray(buffer.getvalue())
    else:
        for where, value in edits:
            data[int(where * (len(data) - 1))] = value
        data = data[: max(1, int(cut * len(data)))] if cut < 1 else data
    path = tmp_path_factory.mktemp("fuzz") / source.name
    path.write_bytes(bytes(data))
    _counts_or_refuses(path)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_protobuf_length_past_the_end(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(b"\x08\x07" + _varint(7 << 3 | 2) + _varint(1 << 40) + b"\x00" * 10)
    _cli_refuses(path, str(path), "past the end")


def test_protobuf_huge_varint_and_bad_wire_type(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(b"\x08" + b"\xff" * 20)
    _cli_refuses(path, "longer than 10 bytes")
    path.write_bytes(b"\x08\x07\x0b\x00")
    _cli_refuses(path, "wire type 3")


def test_protobuf_nested_graphs_are_not_followed(tmp_path: Path) -> None:
    """A sub-graph attribute nested thousands deep is stepped over, not walked."""
    attribute = b""
    for _ in range(3000):
        graph = _field(1, _field(4, b"If") + (_field(5, attribute) if attribute else b""))
        attribute = _field(1, b"then_branch") + _varint(20 << 3) + b"\x05" + _field(6, graph)
    graph = _field(1, _field(4, b"If") + _field(5, attribute))
    assert len(graph) > 30_000
    path = tmp_path / "m.onnx"
    path.write_bytes(b"\x08\x07" + _field(7, graph))
    _cli_refuses(path, "no input")


def test_onnx_huge_claimed_dims(tmp_path: Path) -> None:
    tensor = _varint(1 << 3) + _varint(1 << 62) + _varint(2 << 3) + b"\x01" + _field(8, b"w")
    value = _field(1, b"x") + _field(2, _field(1, _varint(1 << 3) + b"\x01" + _field(2, b"")))
    node = _field(1, b"x") + _field(1, b"w") + _field(2, b"y") + _field(4, b"Conv")
    graph = _field(1, node) + _field(5, tensor) + _field(11, value)
    path = tmp_path / "m.onnx"
    path.write_bytes(b"\x08\x07" + _field(7, graph))
    _cli_refuses(path, str(path))


def test_pt2_nested_thousands_deep(tmp_path: Path) -> None:
    path = tmp_path / "m.pt2"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("m/models/model.json", "[" * 100_000 + "]" * 100_000)
    _cli_refuses(path, str(path), "nested too deep")


def test_zip_member_claiming_a_huge_size(tmp_path: Path) -> None:
    path = tmp_path / "m.pt2"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("m/models/model.json", b"{}")
    data = bytearray(path.read_bytes())
    directory = data.index(b"PK\x01\x02")
    data[directory + 24 : directory + 28] = struct.pack("<I", 0xFFFF_FFF0)  # uncompressed size
    path.write_bytes(bytes(data))
    _cli_refuses(path, str(path), "claims")


def test_safetensors_garbage_headers(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    path.write_bytes(struct.pack("<Q", 1 << 50) + b"{}")
    _cli_refuses(path, "claims")
    raw = b'{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1000]}}'
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(16))
    _cli_refuses(path, "outside the file")
    raw = b"{" + b'"a":{' * 50_000
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    _cli_refuses(path, str(path))


@pytest.mark.parametrize(
    "pickle_bytes",
    [
        b"\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R.",  # a forbidden global
        b"\x80\x04\x8c\x02os\x8c\x06system\x93X\x02\x00\x00\x00ls\x85R.",  # STACK_GLOBAL
        b"\x80\x02ctorch.nn.modules.conv\nConv2d\n)\x81.",  # a whole model's class
    ],
)
def test_pickles_calling_forbidden_globals(tmp_path: Path, pickle_bytes: bytes) -> None:
    path = tmp_path / "m.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("m/data.pkl", pickle_bytes)
    _cli_refuses(path, str(path), "never runs", "torch.export")


@FUZZ
@given(garbage=st.binary(min_size=1, max_size=400))
def test_garbage_pickles(tmp_path_factory: pytest.TempPathFactory, garbage: bytes) -> None:
    path = tmp_path_factory.mktemp("pkl") / "m.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("m/data.pkl", b"\x80\x02" + garbage)
    _counts_or_refuses(path)


def test_pickle_that_nests_itself(tmp_path: Path) -> None:
    """A list appended to itself thousands of times is walked in bounded time."""
    body = b"\x80\x02]q\x00" + b"h\x00a" * 5000 + b"."
    path = tmp_path / "m.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("m/data.pkl", body)
    _counts_or_refuses(path)


def test_not_a_model_file_at_all(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(json.dumps([1, 2]).encode()[:0] + b"\x08\x01garbage\x00\xff" * 10)
    _cli_refuses(path, str(path))


def _graph_file(path: Path, nodes: list[bytes], extra: bytes = b"") -> Path:
    value = _field(1, b"x") + _field(
        2, _field(1, _varint(1 << 3) + b"\x01" + _field(2, _field(1, _varint(1 << 3) + b"\x04")))
    )
    graph = b"".join(_field(1, n) for n in nodes) + _field(11, value) + extra
    path.write_bytes(b"\x08\x07" + _field(7, graph))
    return path


def _node(op: str, inputs: list[str], output: str, attributes: bytes = b"") -> bytes:
    body = b"".join(_field(1, i.encode()) for i in inputs) + _field(2, output.encode())
    return body + _field(4, op.encode()) + attributes


def test_weights_stored_as_a_packed_list_are_not_decoded(tmp_path: Path) -> None:
    """40 MB of float_data: stepped over like raw_data, in bounded time and memory."""
    floats = _field(4, b"\x00" * 40_000_000)
    tensor = _varint(1 << 3) + _varint(10_000_000) + _varint(2 << 3) + b"\x01"
    tensor += _field(8, b"w") + floats
    path = _graph_file(tmp_path / "m.onnx", [_node("Mul", ["x", "w"], "y")], _field(5, tensor))
    start = time.perf_counter()
    with pytest.raises(ConvcountError, match="do not broadcast"):
        load_file(path)
    assert time.perf_counter() - start < SECONDS


def test_folded_numbers_that_grow_without_bound(tmp_path: Path) -> None:
    """Shape values squared 300 times stop being folded instead of growing for ever."""
    nodes = [_node("Shape", ["x"], "s0")]
    for i in range(300):
        nodes.append(_node("Mul", [f"s{i}", f"s{i}"], f"s{i + 1}"))
    nodes.append(_node("Reshape", ["x", "s300"], "y"))
    path = _graph_file(tmp_path / "m.onnx", nodes)
    start = time.perf_counter()
    report = load_file(path)
    assert time.perf_counter() - start < SECONDS
    assert report.layers[-1].kind == "reshape"


def test_a_huge_packed_attribute_is_refused(tmp_path: Path) -> None:
    attribute = _field(1, b"pads") + _field(8, b"\x01" * 9_000_000)
    path = _graph_file(tmp_path / "m.onnx", [_node("Pad", ["x"], "y", _field(5, attribute))])
    _cli_refuses(path, str(path), "attribute 'pads'")


LEGACY = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."  # torch.save's magic number, pickled


@FUZZ
@given(garbage=st.binary(max_size=300))
def test_legacy_torch_save_garbage(
    tmp_path_factory: pytest.TempPathFactory, garbage: bytes
) -> None:
    path = tmp_path_factory.mktemp("legacy") / "m.pth"
    path.write_bytes(LEGACY + garbage)
    _counts_or_refuses(path)


def test_legacy_torch_save_calling_a_forbidden_global(tmp_path: Path) -> None:
    protocol = b"\x80\x02M\xe9\x03."  # 1001
    sys_info = b"\x80\x02}q\x00."
    evil = b"\x80\x02cposix\nsystem\nX\x02\x00\x00\x00ls\x85R."
    path = tmp_path / "m.pth"
    path.write_bytes(LEGACY + protocol + sys_info + evil)
    _cli_refuses(path, str(path), "posix.system", "never runs")
