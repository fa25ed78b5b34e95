"""A tiny PNG writer and histogram renderer (stdlib only: zlib + struct).

Enough for the benchmark's histograms: an RGB canvas, filled rectangles,
lines, and text in a built-in 5x7 bitmap font (upper case, digits, a few
symbols; lower case is drawn as upper case). No plotting dependency.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

Color = tuple[int, int, int]
WHITE: Color = (255, 255, 255)
BLACK: Color = (0, 0, 0)
GREY: Color = (200, 200, 200)
DARK_GREY: Color = (90, 90, 90)
BAR: Color = (70, 110, 180)
RED: Color = (210, 40, 40)
ORANGE: Color = (235, 140, 20)
GREEN: Color = (30, 150, 70)

_GLYPHS: dict[str, str] = {
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11100 10010 10001 10001 10001 10010 11100",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 10001 01010 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    " ": "00000 00000 00000 00000 00000 00000 00000",
    ".": "00000 00000 00000 00000 00000 01100 01100",
    ",": "00000 00000 00000 00000 01100 00100 01000",
    "-": "00000 00000 00000 11111 00000 00000 00000",
    "+": "00000 00100 00100 11111 00100 00100 00000",
    ":": "00000 01100 01100 00000 01100 01100 00000",
    "%": "11000 11001 00010 00100 01000 10011 00011",
    "/": "00000 00001 00010 00100 01000 10000 00000",
    "(": "00010 00100 01000 01000 01000 00100 00010",
    ")": "01000 00100 00010 00010 00010 00100 01000",
    "=": "00000 00000 11111 00000 11111 00000 00000",
    "<": "00010 00100 01000 10000 01000 00100 00010",
    ">": "01000 00100 00010 00001 00010 00100 01000",
    "_": "00000 00000 00000 00000 00000 00000 11111",
    "#": "01010 01010 11111 01010 11111 01010 01010",
    "|": "00100 00100 00100 00100 00100 00100 00100",
    "*": "00000 00100 10101 01110 10101 00100 00000",
    "?": "01110 10001 00001 00010 00100 00000 00100",
    "!": "00100 00100 00100 00100 00100 00000 00100",
    "[": "01110 01000 01000 01000 01000 01000 01110",
    "]": "01110 00010 00010 00010 00010 00010 01110",
}
GLYPH_W = 5
GLYPH_H = 7


class Canvas:
    """An RGB image in memory."""

    def __init__(self, width: int, height: int, background: Color = WHITE) -> None:
        self.width = width
        self.height = height
        self._pixels = bytearray(bytes(background) * (width * height))

    def pixel(self, x: int, y: int, color: Color) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            self._pixels[i : i + 3] = bytes(color)

    def get(self, x: int, y: int) -> Color:
        i = (y * self.width + x) * 3
        r, g, b = self._pixels[i : i + 3]
        return (r, g, b)

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        """Fill the rectangle [x0, x1) x [y0, y1) (clipped)."""
        x0, x1 = sorted((max(0, x0), min(self.width, x1)))
        y0, y1 = sorted((max(0, y0), min(self.height, y1)))
        row = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            i = (y * self.width + x0) * 3
            self._pixels[i : i + len(row)] = row

    def hline(self, x0: int, x1: int, y: int, color: Color) -> None:
        self.rect(min(x0, x1), y, max(x0, x1) + 1, y + 1, color)

    def vline(self, x: int, y0: int, y1: int, color: Color, dash: int = 0) -> None:
        top, bottom = min(y0, y1), max(y0, y1)
        for y in range(top, bottom + 1):
            if dash and (y // dash) % 2:
                continue
            self.pixel(x, y, color)

    def text(
        self, x: int, y: int, value: str, color: Color = BLACK, scale: int = 1
    ) -> int:
        """Draw ``value`` with its top-left corner at (x, y); returns the width."""
        cursor = x
        for char in value:
            glyph = _GLYPHS.get(char.upper(), _GLYPHS["?"])
            for row, bits in enumerate(glyph.split()):
                for col, bit in enumerate(bits):
                    if bit == "1":
                        self.rect(
                            cursor + col * scale,
                            y + row * scale,
                            cursor + (col + 1) * scale,
                            y + (row + 1) * scale,
                            color,
                        )
            cursor += (GLYPH_W + 1) * scale
        return cursor - x

    @staticmethod
    def text_width(value: str, scale: int = 1) -> int:
        return len(value) * (GLYPH_W + 1) * scale

    def png_bytes(self) -> bytes:
        raw = bytearray()
        stride = self.width * 3
        for y in range(self.height):
            raw.append(0)  # filter: none
            raw.extend(self._pixels[y * stride : (y + 1) * stride])

        def chunk(kind: bytes, data: bytes) -> bytes:
            return (
                struct.pack(">I", len(data))
                + kind
                + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
            )

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + chunk(b"IEND", b"")
        )

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.png_bytes())
        return path


def _nice_step(span: float, target_bins: int) -> float:
    """A 1/2/5 x 10^n step that cuts ``span`` into about ``target_bins`` bins."""
    if span <= 0:
        return 1.0
    raw = span / target_bins
    exponent = math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0, 10.0):
        step = factor * math.pow(10.0, exponent)
        if step >= raw:
            return step
    return math.pow(10.0, exponent + 1)


@dataclass(frozen=True)
class Marker:
    value: float
    label: str
    color: Color


def histogram_png(
    values_ms: Sequence[float],
    path: Path,
    *,
    title: str,
    subtitle: str = "",
    markers: Sequence[Marker] = (),
    x_label: str = "ARRIVAL AT EBAY - FIRE_AT (MS)",
    width: int = 900,
    height: int = 480,
    target_bins: int = 40,
) -> Path:
    """Render a histogram of ``values_ms`` with vertical markers to ``path``."""
    canvas = Canvas(width, height)
    left, right, top, bottom = 70, width - 20, 60, height - 60
    canvas.text(left, 12, title, BLACK, scale=2)
    if subtitle:
        canvas.text(left, 34, subtitle, DARK_GREY)

    data = list(values_ms)
    lows = [*data, *(m.value for m in markers), 0.0]
    low = min(lows)
    high = max([*data, *(m.value for m in markers), 1.0])
    step = _nice_step(high - low, target_bins)
    start = math.floor(low / step) * step
    bins = max(1, math.ceil((high - start) / step + 1e-9))
    if start + bins * step <= high:
        bins += 1
    counts = [0] * bins
    for value in data:
        counts[min(bins - 1, int((value - start) // step))] += 1
    peak = max(counts) if counts else 1
    peak = max(peak, 1)

    plot_w = right - left
    plot_h = bottom - top

    def x_of(value: float) -> int:
        return left + round((value - start) / (bins * step) * plot_w)

    def y_of(count: float) -> int:
        return bottom - round(count / peak * plot_h)

    # grid + y ticks
    y_step = max(1, math.ceil(_nice_step(peak, 5)))
    tick = 0
    while tick <= peak:
        y = y_of(tick)
        canvas.hline(left, right, y, GREY)
        label = str(tick)
        canvas.text(left - 8 - Canvas.text_width(label), y - 3, label, DARK_GREY)
        tick += y_step
    # bars
    for i, count in enumerate(counts):
        if count:
            x0 = x_of(start + i * step)
            x1 = x_of(start + (i + 1) * step)
            canvas.rect(x0 + 1, y_of(count), max(x0 + 2, x1), bottom, BAR)
    # axes
    canvas.hline(left, right, bottom, BLACK)
    canvas.vline(left, top, bottom, BLACK)
    # x ticks: about 10 labels
    label_every = max(1, math.ceil(bins / 10))
    for i in range(0, bins + 1, label_every):
        value = start + i * step
        x = x_of(value)
        canvas.vline(x, bottom, bottom + 4, BLACK)
        label = f"{value:g}"
        canvas.text(x - Canvas.text_width(label) // 2, bottom + 8, label, BLACK)
    canvas.text(
        left + plot_w // 2 - Canvas.text_width(x_label) // 2,
        bottom + 24,
        x_label,
        BLACK,
    )
    # markers + legend
    legend_y = top + 4
    for marker in markers:
        x = x_of(marker.value)
        canvas.vline(x, top, bottom, marker.color, dash=4)
        canvas.vline(x + 1, top, bottom, marker.color, dash=4)
        canvas.rect(right - 230, legend_y, right - 220, legend_y + 7, marker.color)
        canvas.text(right - 214, legend_y, marker.label, BLACK)
        legend_y += 12
    canvas.text(left - 60, top - 14, "SNIPES", DARK_GREY)
    return canvas.save(path)
