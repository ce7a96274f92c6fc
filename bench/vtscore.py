#!/usr/bin/env python3
"""Scores a terminal program's output against the video it showed.

Replays VT bytes in pyte (scripts/vt-replay), finds the rectangle of drawn cells,
rebuilds its pixels from the block glyphs (half, quadrant, sextant) and their colours,
and compares them with the source frame scaled to the same pixels (area average): PSNR
in dB, best over the last few frames (players may differ by one frame).

    bench/vtscore.py VT_FILE COLUMNS ROWS VIDEO FRAMES_SHOWN
"""
import json
import math
import os
import subprocess
import sys

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))


def glyph_pixels(ch):
    """(width, height, mask) of a block glyph: bit i set = pixel i (row-major) in foreground."""
    c = ord(ch)
    if ch == " ":
        return None
    if ch == "\u2580":
        return (1, 2, 0b01)
    if ch == "\u2584":
        return (1, 2, 0b10)
    if ch == "\u2588":
        return (1, 2, 0b11)
    quadrants = {0x2598: 1, 0x259D: 2, 0x2596: 4, 0x258C: 5, 0x259E: 6, 0x259B: 7, 0x2597: 8, 0x259A: 9,
                 0x2590: 10, 0x259C: 11, 0x2599: 13, 0x259F: 14}
    if c in quadrants:
        return (2, 2, quadrants[c])
    if 0x1FB00 <= c <= 0x1FB3B:
        index = c - 0x1FB00
        pattern = index + 1
        if pattern >= 21:
            pattern += 1
        if pattern >= 42:
            pattern += 1
        return (2, 3, pattern)
    return None


def rebuild(cells, box, bw, bh):
    x0, y0, x1, y1 = box
    image = numpy.zeros(((y1 - y0) * bh, (x1 - x0) * bw, 3), dtype=numpy.float64)
    for y in range(y0, y1):
        for x in range(x0, x1):
            ch, fg, bg = cells[y][x]
            fgc = [int(fg[i:i + 2], 16) for i in (0, 2, 4)]
            bgc = [int(bg[i:i + 2], 16) for i in (0, 2, 4)]
            g = glyph_pixels(ch)
            for py in range(bh):
                for px in range(bw):
                    if g is None:
                        colour = bgc
                    else:
                        gw, gh, mask = g
                        # Map this pixel of the finest grid to the glyph's own grid.
                        gx, gy = px * gw // bw, py * gh // bh
                        colour = fgc if mask & (1 << (gy * gw + gx)) else bgc
                    image[(y - y0) * bh + py, (x - x0) * bw + px] = colour
    return image


def reference(video, index, width, height):
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", video, "-vf", "select=eq(n\\,%d),scale=%d:%d:flags=area" % (index, width, height),
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return numpy.frombuffer(raw, dtype=numpy.uint8).reshape((height, width, 3)).astype(numpy.float64)


def main():
    path, columns, rows, video, frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    # Players that clear the screen on exit (mpv): score the picture before the clear.
    with open(path, "rb") as handle:
        data = handle.read()
    cut = data.rfind(b"\x1b[2J")
    replay_path = path
    if cut >= 0 and len(data) - cut < 64:
        replay_path = path + ".scored"
        with open(replay_path, "wb") as handle:
            handle.write(data[:cut])
    cells = json.loads(subprocess.run([os.path.join(HERE, "..", "scripts", "vt-replay"), replay_path, str(columns), str(rows)],
                                      capture_output=True, check=True).stdout)
    drawn = [(x, y) for y in range(rows) for x in range(columns) if glyph_pixels(cells[y][x][0]) or cells[y][x][2] != "000000"]
    xs = [x for x, _ in drawn]
    ys = [y for _, y in drawn]
    box = (min(xs), min(ys), max(xs) + 1, max(ys) + 1)
    # The finest grid any drawn glyph needs.
    kinds = {glyph_pixels(cells[y][x][0])[:2] for x, y in drawn if glyph_pixels(cells[y][x][0])}
    bw = max([k[0] for k in kinds] + [1])
    bh = max([k[1] for k in kinds] + [2])
    if bw == 2 and bh == 2 and (2, 3) in kinds:
        bh = 3
    if (2, 3) in kinds:
        bw, bh = 2, 6 if (1, 2) in kinds or (2, 2) in kinds else 3
    picture = rebuild(cells, box, bw, bh)
    height, width = picture.shape[0], picture.shape[1]
    best = -1.0
    for index in range(max(0, frames - 3), frames):
        ref = reference(video, index, width, height)
        mse = numpy.mean((picture - ref) ** 2)
        psnr = 99.0 if mse == 0 else 10 * math.log10(255 * 255 / mse)
        best = max(best, psnr)
    size = os.path.getsize(path)
    print("box=%dx%d cells at (%d,%d) pixels=%dx%d bytes=%d bytes_per_frame=%.0f psnr_db=%.2f"
          % (box[2] - box[0], box[3] - box[1], box[0], box[1], width, height, size, size / frames, best))


if __name__ == "__main__":
    main()
