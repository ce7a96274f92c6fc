#!/usr/bin/env python3
"""Converts a Darknet YOLO network (.cfg + .weights) into OpenVINO's IR (.xml + .bin)
and writes beside it the description Vigie's detector reads (.json: input size, the
outputs' anchors, the class names).

    darknet2openvino.py CFG WEIGHTS NAMES OUTPUT_STEM

Batch normalisation is folded into the convolutions; the YOLO layers' decoding
(sigmoid, anchors, non-maximum suppression) is left to Vigie, which reads the raw
outputs, one per [yolo] layer, in the order of the .json's "outputs".
Supported layers: convolutional (leaky, linear, mish-free), maxpool, route (with groups),
shortcut, upsample, yolo: enough for yolov3-tiny, yolov3 and yolov4-tiny.
"""
import json
import os
import sys

import numpy as np
import openvino as ov
import openvino.opset13 as ops


def sections(path):
    current = None
    for raw in open(path, encoding="utf-8"):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            current = {"type": line.strip("[]").strip()}
            yield current
        else:
            key, value = line.split("=", 1)
            current[key.strip()] = value.strip()


def main(cfg, weights_path, names_path, stem):
    blocks = list(sections(cfg))
    net = blocks[0]
    width, height = int(net.get("width", 416)), int(net.get("height", 416))
    with open(weights_path, "rb") as f:
        major, minor, _revision = np.frombuffer(f.read(12), dtype=np.int32)
        f.read(8 if major * 10 + minor >= 2 else 4)
        weights = np.frombuffer(f.read(), dtype=np.float32)
    offset = 0

    def take(n):
        nonlocal offset
        if offset + n > weights.size:
            raise SystemExit(f"{weights_path}: the weights end before layer needs them (offset {offset}, need {n})")
        values = weights[offset:offset + n]
        offset += n
        return values

    image = ops.parameter([1, 3, height, width], ov.Type.f32, name="image")
    outputs, channels, anchors_out = [], [], []
    layers = []  # output node of each layer, by index
    x, c = image, 3
    for index, block in enumerate(blocks[1:]):
        kind = block["type"]
        if kind == "convolutional":
            filters = int(block["filters"])
            size = int(block["size"])
            stride = int(block.get("stride", 1))
            pad = size // 2 if int(block.get("pad", 0)) else int(block.get("padding", 0))
            bn = int(block.get("batch_normalize", 0))
            biases = take(filters)
            if bn:
                scales, mean, var = take(filters), take(filters), take(filters)
            kernel = take(filters * c * size * size).reshape(filters, c, size, size)
            if bn:
                factor = scales / np.sqrt(var + 0.00001)
                kernel = kernel * factor[:, None, None, None]
                biases = biases - mean * factor
            y = ops.convolution(x, ops.constant(kernel.astype(np.float32)), [stride, stride], [pad, pad], [pad, pad], [1, 1])
            y = ops.add(y, ops.constant(biases.astype(np.float32).reshape(1, filters, 1, 1)))
            activation = block.get("activation", "linear")
            if activation == "leaky":
                y = ops.prelu(y, ops.constant(np.array([0.1], dtype=np.float32)))
            elif activation != "linear":
                raise SystemExit(f"{cfg}: layer {index}: activation {activation} is not supported")
            x, c = y, filters
        elif kind == "maxpool":
            size = int(block["size"])
            stride = int(block.get("stride", 1))
            # Darknet pads size-1 at the end, so a stride-1 pool keeps the size.
            pad_end = size - 1 if stride == 1 else 0
            x = ops.max_pool(x, [stride, stride], [1, 1], [0, 0], [pad_end, pad_end], [size, size],
                             rounding_type="floor", auto_pad="explicit").output(0)
        elif kind == "route":
            sources = [int(v) for v in block["layers"].split(",")]
            sources = [s if s >= 0 else index + s for s in sources]
            parts = [layers[s] for s in sources]
            if len(parts) == 1:
                y, yc = parts[0]
            else:
                y = ops.concat([p[0] for p in parts], axis=1)
                yc = sum(p[1] for p in parts)
            groups = int(block.get("groups", 1))
            if groups > 1:
                group = int(block.get("group_id", 0))
                y = ops.split(y, ops.constant(np.int64(1)), groups).output(group)
                yc //= groups
            x, c = y, yc
        elif kind == "shortcut":
            source = int(block["from"])
            x = ops.add(x, layers[index + source if source < 0 else source][0])
        elif kind == "upsample":
            stride = int(block.get("stride", 2))
            x = ops.interpolate(x, ops.constant(np.array([stride, stride], dtype=np.float32)), "nearest", "scales",
                                axes=ops.constant(np.array([2, 3], dtype=np.int64)))
        elif kind == "yolo":
            mask = [int(v) for v in block["mask"].split(",")]
            anchors = [float(v) for v in block["anchors"].split(",")]
            pairs = [[anchors[2 * m], anchors[2 * m + 1]] for m in mask]
            result = ops.result(x)
            outputs.append(result)
            anchors_out.append(pairs)
            channels.append(c)
        else:
            raise SystemExit(f"{cfg}: layer {index}: [{kind}] is not supported")
        layers.append((x, c))
    if offset != weights.size:
        raise SystemExit(f"{weights_path}: {weights.size - offset} weights left over: the .cfg does not match")
    model = ov.Model(outputs, [image], "darknet")
    ov.save_model(model, stem + ".xml", compress_to_fp16=False)
    names = [line.strip() for line in open(names_path, encoding="utf-8") if line.strip()]
    classes = int(next(b for b in blocks if b["type"] == "yolo")["classes"])
    if len(names) != classes:
        raise SystemExit(f"{names_path}: {len(names)} names for {classes} classes")
    with open(stem + ".json", "w", encoding="utf-8") as f:
        json.dump({"format": "darknet-yolo", "name": os.path.splitext(os.path.basename(cfg))[0], "input": {"width": width, "height": height, "layout": "NCHW", "range": [0, 1]},
                   "outputs": [{"anchors": a} for a in anchors_out], "classes": names}, f, indent=1)
    print(f"{stem}.xml: {len(outputs)} outputs, {classes} classes, input {width}x{height}")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
