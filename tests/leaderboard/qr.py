"""Reading a QR code's modules back from the SVG paths segno draws (`M x y` moves, then `h` runs
of dark modules and `m` relative moves, on lines at half-module heights)."""

from __future__ import annotations

import re


def modules(svg: str) -> list[list[bool]]:
    """The matrix of dark (True) and light modules of a segno SVG, its quiet zone left out."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    path = re.search(r'<path stroke="#000" d="([^"]+)"', svg).group(1)
    dark, x, y = set(), 0.0, 0.0
    for command, numbers in re.findall(r"([MmHhVv])([-\d. ]+)", path):
        values = [float(value) for value in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        elif command == "h":
            dark.update((int(x + i), int(y)) for i in range(int(values[0])))
            x += values[0]
        else:
            raise AssertionError(f"unexpected path command {command!r} in the QR code")
    border = min(dx for dx, _ in dark)  # the finder pattern starts at the quiet zone's edge
    inner = size - 2 * border
    return [[(column + border, row + border) in dark for column in range(inner)] for row in range(inner)]
