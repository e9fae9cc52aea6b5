#!/usr/bin/env python3
"""Goldens for the training plots and the PNG encoder (Tests/Fixtures/reports/plots.json).

1. Writes the series the Swift test plots (a decreasing `train/loss`, float32 values as
   TensorBoard stores them) and ms-swift's own `tensorboard_smoothing` of it (swift/utils/
   tb_utils.py, a pure module, loaded from the installed ms-swift 4.6.0 by its file path).
2. Decodes the PNG files tune's encoder wrote (committed next to it: pattern.png, a 37×23
   pattern; plot_train_loss.png, the chart of that series) with Python's zlib (the IDAT
   stream, unfiltering every row by hand) and with Pillow, checks that both agree, that
   pattern.png holds exactly the pattern computed here, and records each image's size and the
   CRC-32 of its RGB bytes, plus where the chart's curve colour (#FF7043) is in the first and
   last columns of the plot area that hold it.

Order when remaking: run this script (it writes the series), run
`swift test -c release --filter TrainingReportPlotTests` (it leaves what it drew in
$TMPDIR/tune-report-fixtures/), copy pattern.png and plot_train_loss.png from there into
Tests/Fixtures/reports/, run this script again.

Environment: the reference venv /root/.cache/tune/refvenv (Pillow 13.0.0, ms-swift 4.6.0).
Run: /root/.cache/tune/refvenv/bin/python Scripts/goldens/training_plots.py
"""
import importlib.util
import json
import math
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "reports"
SWIFT_TB_UTILS = Path(sys.prefix) / "lib" / "python3.11" / "site-packages" / "swift" / "utils" / "tb_utils.py"


def tb_utils():
    spec = importlib.util.spec_from_file_location("tb_utils", SWIFT_TB_UTILS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pattern(width=37, height=23):
    return bytes((x * 31 + y * 17 + c * 101 + (x * y) % 7 + (200 if 10 <= x < 30 else 0)) & 0xFF
                 if y % 5 else 255
                 for y in range(height) for x in range(width) for c in range(3))


def decode_with_zlib(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, _ = ihdr
    assert (depth, colour) == (8, 2)
    raw = zlib.decompress(idat)
    stride = width * 3
    rows, previous = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b = previous[i]
            c = previous[i - 3] if i >= 3 else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, b"".join(rows)


def describe(name):
    from PIL import Image
    data = (OUT / name).read_bytes()
    width, height, pixels = decode_with_zlib(data)
    with Image.open(OUT / name) as im:
        im.load()
        assert im.size == (width, height) and im.mode == "RGB"
        assert im.tobytes() == pixels
    return width, height, pixels, {"width": width, "height": height, "pixel_crc32": zlib.crc32(pixels),
                                   "file_bytes": len(data)}


def main():
    steps = list(range(1, 41))
    values = [float(np.float32(2.5 * math.exp(-s / 12) + 0.3 + 0.05 * math.sin(s))) for s in steps]
    golden = {"series": {"tag": "train/loss", "steps": steps, "values": values},
              "smoothed": tb_utils().tensorboard_smoothing(values, 0.9)}
    if (OUT / "pattern.png").exists():
        w, h, pixels, info = describe("pattern.png")
        assert (w, h) == (37, 23) and pixels == pattern(), "pattern.png does not hold the pattern"
        golden["pattern"] = info
    if (OUT / "plot_train_loss.png").exists():
        w, h, pixels, info = describe("plot_train_loss.png")
        arr = np.frombuffer(pixels, dtype=np.uint8).reshape(h, w, 3)
        hit = np.all(arr == np.array([0xFF, 0x70, 0x43], dtype=np.uint8), axis=2)
        cols = [x for x in range(w) if hit[:, x].any()]
        first, last = cols[0], cols[-1]
        info["curve_first_column"] = {"x": first, "top_row": int(np.argmax(hit[:, first]))}
        info["curve_last_column"] = {"x": last, "top_row": int(np.argmax(hit[:, last]))}
        assert info["curve_first_column"]["top_row"] < info["curve_last_column"]["top_row"], "loss should fall"
        golden["plot_train_loss"] = info
    (OUT / "plots.json").write_text(json.dumps(golden, indent=1) + "\n")
    print(json.dumps({k: v for k, v in golden.items() if k not in ("series", "smoothed")}, indent=1))


if __name__ == "__main__":
    main()
