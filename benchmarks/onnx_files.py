"""`convcount model` on a 100 MB ONNX file with its weights, against `import typer`.

    python benchmarks/onnx_files.py               # 15 interleaved rounds
    python benchmarks/onnx_files.py --megabytes 20 --rounds 3

The script writes (with a protobuf encoder of its own, no framework needed) an
ONNX model of a stem and 3x3 convolutions of 512 channels whose weights, held
in the file as raw data, add up to ``--megabytes``, plus the global pooling and
classifier. Each round runs `python -c "import typer"` and `convcount model
FILE --json` in turn; the medians' ratio is compared with the target of issue
17 (2.0x). With ``--compare-onnx`` (the ``onnx`` package installed), the time
of `import onnx; onnx.load(FILE)` (the ``protobuf`` runtime's way) is printed
beside it, for information.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import convcount

TARGET = 2.0


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _len(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _ints_attribute(name: str, values: list[int]) -> bytes:
    packed = b"".join(_varint(v) for v in values)
    return _len(1, name.encode()) + _len(8, packed) + _int(20, 7)


def _tensor(name: str, dims: list[int]) -> bytes:
    count = 1
    for d in dims:
        count *= d
    raw = struct.pack("<f", 0.5) * count
    return b"".join(_int(1, d) for d in dims) + _int(2, 1) + _len(8, name.encode()) + _len(9, raw)


def _node(op: str, inputs: list[str], output: str, attributes: bytes = b"") -> bytes:
    body = b"".join(_len(1, i.encode()) for i in inputs) + _len(2, output.encode())
    return body + _len(3, f"/{output}/{op}".encode()) + _len(4, op.encode()) + attributes


def _value(name: str, dims: list[int]) -> bytes:
    shape = b"".join(_len(1, _int(1, d)) for d in dims)
    return _len(1, name.encode()) + _len(2, _len(1, _int(1, 1) + _len(2, shape)))


def write_model(path: Path, megabytes: float) -> int:
    """A conv network whose weights take about ``megabytes``; returns the file's size."""
    width = 512
    per_layer = width * width * 9 * 4
    layers = max(1, round(megabytes * 1e6 / per_layer))
    conv = _len(5, _ints_attribute("kernel_shape", [3, 3])) + _len(
        5, _ints_attribute("pads", [1, 1, 1, 1])
    )
    nodes = [_node("Conv", ["x", "stem.weight"], "stem", conv)]
    inits = [_tensor("stem.weight", [width, 3, 3, 3])]
    last = "stem"
    for i in range(layers):
        nodes.append(_node("Conv", [last, f"c{i}.weight", f"c{i}.bias"], f"c{i}", conv))
        nodes.append(_node("Relu", [f"c{i}"], f"r{i}"))
        inits += [_tensor(f"c{i}.weight", [width, width, 3, 3]), _tensor(f"c{i}.bias", [width])]
        last = f"r{i}"
    nodes.append(_node("GlobalAveragePool", [last], "pool"))
    nodes.append(_node("Flatten", ["pool"], "flat"))
    trans_b = _len(5, _len(1, b"transB") + _int(3, 1) + _int(20, 2))
    nodes.append(_node("Gemm", ["flat", "fc.weight", "fc.bias"], "fc", trans_b))
    inits += [_tensor("fc.weight", [1000, width]), _tensor("fc.bias", [1000])]
    graph = (
        b"".join(_len(1, n) for n in nodes)
        + _len(2, b"bench")
        + b"".join(_len(5, t) for t in inits)
        + _len(11, _value("x", [1, 3, 32, 32]))
        + _len(12, _value("fc", [1, 1000]))
    )
    opset = _len(1, b"") + _int(2, 17)
    path.write_bytes(_int(1, 8) + _len(2, b"bench") + _len(7, graph) + _len(8, opset))
    return path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--megabytes", type=float, default=100)
    parser.add_argument("--target", type=float, default=TARGET)
    parser.add_argument(
        "--compare-onnx", action="store_true", help="also time import onnx; onnx.load(FILE)"
    )
    args = parser.parse_args()
    script = str(Path(sys.executable).with_name("convcount"))
    compileall.compile_dir(str(Path(convcount.__file__).parent), quiet=1)
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "big.onnx"
        size = write_model(path, args.megabytes)
        commands = {
            "import typer": [sys.executable, "-c", "import typer"],
            "convcount model big.onnx --json": [script, "model", str(path), "--json"],
        }
        if args.compare_onnx:  # needs the onnx package
            load = f"import onnx; onnx.load({str(path)!r})"
            commands["import onnx; onnx.load (info)"] = [sys.executable, "-c", load]
        times: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm the file cache, and check each runs
            subprocess.run(command, stdout=subprocess.DEVNULL, env=env, check=True)
        for _ in range(args.rounds):
            for label, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, stdout=subprocess.DEVNULL, env=env, check=True)
                times[label].append(time.perf_counter() - start)
    base = statistics.median(times["import typer"])
    print(f"ONNX file of {size / 1e6:.1f} MB (weights inside)")
    print(f"python -c 'import typer': {base * 1000:.1f} ms (median of {args.rounds})")
    missed = 0
    for label, samples in times.items():
        if label == "import typer":
            continue
        ratio = statistics.median(samples) / base
        line = f"{label:<36} {statistics.median(samples) * 1000:7.1f} ms = {ratio:5.2f}x"
        if label.startswith("convcount"):
            verdict = "ok" if ratio <= args.target else "over target"
            missed += verdict != "ok"
            line += f"  (target <= {args.target:.1f}x: {verdict})"
        print(line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
