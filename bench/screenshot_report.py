"""Open a rendered report.html in headless Chromium, save a screenshot, and check it shows charts.

The check reads the PNG back (a small pure-Python decoder: no Pillow needed) and counts pixels of
the colours the charts are drawn in: fault-window shading, the p50/p95 lines, the success line and
the SLO objective lines. A page that fails to lay out its inline SVG has none of them.

    .venv/bin/python bench/screenshot_report.py results/rehearsal-1       # a run folder
    .venv/bin/python bench/screenshot_report.py some/report.html --out shot.png
    .venv/bin/python bench/screenshot_report.py                           # the saved smoke result

Exit codes: 0 the page renders its charts, 1 it does not, 3 Chromium is not installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RESULT = REPO / "tests" / "unit" / "reporting" / "fixtures" / "smoke-schema1.json"
WINDOW = (1400, 2400)

# Colours from reporting/templates/report.css and reporting/html.py, as Chromium paints them.
# Per channel tolerance: anti-aliasing and colour management shift line pixels a little; the
# pale shading gets a tight one so the page's other pale greys do not count as it.
EXPECTED_COLOURS: dict[str, tuple[tuple[int, int, int], int, int]] = {
    # name: (RGB, minimum pixel count, tolerance)
    "fault-window shading": ((0xF9, 0xE4, 0xE6), 5000, 4),  # #cf222e at 12% over white
    "p95 line": ((0xE6, 0x9F, 0x00), 300, 24),
    "p50 line": ((0x00, 0x72, 0xB2), 300, 24),
    "success-rate line": ((0x00, 0x9E, 0x73), 300, 24),
    "SLO objective line": ((0x82, 0x50, 0xDF), 100, 24),
}


def find_chromium() -> str | None:
    override = os.environ.get("PEAKDAY_CHROMIUM")
    if override:
        return override
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(
    chromium: str, html: Path, png: Path, timeout_s: float = 90.0, height: int = WINDOW[1]
) -> None:
    """Headless, offline (no background networking), a throwaway profile; `height` in pixels
    (the page below it is not in the shot)."""
    with tempfile.TemporaryDirectory(prefix="peakday-chromium-") as profile:
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}",
            f"--screenshot={png}", f"--window-size={WINDOW[0]},{height}",
            html.resolve().as_uri(),
        ]  # fmt: skip
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    if completed.returncode != 0 or not png.is_file():
        raise RuntimeError(
            f"Chromium exited {completed.returncode} without a screenshot at {str(png)!r}: "
            f"{completed.stderr.strip()[-2000:]}"
        )


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]


def decode_png(data: bytes) -> Image:
    """8-bit RGB/RGBA, non-interlaced PNGs (what Chromium writes)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    position, chunks = 8, []
    width = height = channels = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError(f"unsupported PNG: depth {depth}, colour {colour}")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            chunks.append(body)
    stride = width * channels
    raw = zlib.decompress(b"".join(chunks))
    # "Up" rows (the commonest) add two whole rows bytewise without carries, as big integers.
    low7 = int.from_bytes(b"\x7f" * stride, "big")
    high1 = int.from_bytes(b"\x80" * stride, "big")
    prior, rows = bytearray(stride), []
    for y in range(height):
        start = y * (stride + 1)
        kind_of_filter = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if kind_of_filter == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 255
        elif kind_of_filter == 2:
            a, b = int.from_bytes(line, "big"), int.from_bytes(prior, "big")
            line = bytearray(
                (((a & low7) + (b & low7)) ^ ((a ^ b) & high1)).to_bytes(stride, "big")
            )
        elif kind_of_filter == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + (left + prior[i]) // 2) & 255
        elif kind_of_filter == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = prior[i]
                c = prior[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prior = line
    return Image(width, height, channels, rows)


def colour_counts(image: Image) -> Counter[tuple[int, int, int]]:
    counts: Counter[tuple[int, int, int]] = Counter()
    step = image.channels
    for row in image.rows:
        for i in range(0, len(row), step):
            counts[(row[i], row[i + 1], row[i + 2])] += 1
    return counts


def check_screenshot(png: Path) -> list[str]:
    """Problems seen in the screenshot; empty when the charts are there."""
    image = decode_png(png.read_bytes())
    counts = colour_counts(image)
    problems = []
    for name, (rgb, minimum, tolerance) in EXPECTED_COLOURS.items():
        seen = sum(
            n
            for colour, n in counts.items()
            if all(abs(c - e) <= tolerance for c, e in zip(colour, rgb, strict=True))
        )
        if seen < minimum:
            problems.append(f"{name}: {seen} pixels near #{bytes(rgb).hex()}, expected {minimum}+")
    total = image.width * image.height
    white = counts.get((255, 255, 255), 0)
    if white > 0.95 * total:
        problems.append(f"the page is {100 * white / total:.0f}% white: nothing rendered")
    return problems


def render_html(source: Path, into: Path) -> Path:
    """report.html for a run folder, a result.json or an existing .html file."""
    if source.suffix == ".html":
        return source
    sys.path.insert(0, str(REPO / "src"))
    from peakday.reporting.writer import write_reports
    from peakday.results.store import load_result

    write_reports(load_result(source), into)
    return into / "report.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_RESULT)
    parser.add_argument("--out", type=Path, help="Where to save the PNG (default: a temp folder).")
    parser.add_argument(
        "--height",
        type=int,
        default=WINDOW[1],
        help=f"Window height in pixels (default {WINDOW[1]}); raise it to see the step charts.",
    )
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("error: Chromium is not installed. Hint: apt-get install chromium", file=sys.stderr)
        return 3
    with tempfile.TemporaryDirectory(prefix="peakday-report-") as scratch:
        html = render_html(args.source, Path(scratch))
        png = args.out or Path(tempfile.mkdtemp(prefix="peakday-shot-")) / "report.png"
        png.parent.mkdir(parents=True, exist_ok=True)
        screenshot(chromium, html, png, height=args.height)
    problems = check_screenshot(png)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    print(f"screenshot: {png} ({'charts render' if not problems else 'CHARTS MISSING'})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
