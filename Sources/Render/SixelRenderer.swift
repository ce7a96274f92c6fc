/// Draws pictures into one rectangle of the terminal as sixel graphics, sending only the
/// strips (one text row of pixels each) that changed.
///
/// The tile keeps a palette of up to 255 colours built by median cut, reused from frame
/// to frame and rebuilt slowly (every `paletteLifetime` frames), with a cache from 15-bit
/// colours to palette entries. Each changed strip is one DCS sequence, positioned
/// absolutely, with transparent unset pixels, defining only the colours it uses and
/// run-length coded; a strip of a tile is far under tmux's 1 MiB limit.
public final class SixelRenderer {
    public let pixelWidth: Int
    public let pixelHeight: Int
    /// Pixels of one text cell (from the terminal's probe).
    public let cellWidth: Int
    public let cellHeight: Int
    public let originRow: Int
    public let originColumn: Int
    /// Largest channel difference a strip's pixels may drift before it is sent again.
    public var threshold: Int
    public var paletteLifetime = 250
    public let maximumColors: Int

    private var palette: [RGB] = []
    private var lookup = [Int16](repeating: -1, count: 1 << 15)
    private var framesWithPalette = Int.max / 2
    /// What the terminal shows, packed RGB, and whether each strip was ever drawn.
    private var shown: [UInt8]
    private var drawn: [Bool]

    public init(
        pixelWidth: Int, pixelHeight: Int, cellWidth: Int, cellHeight: Int, originRow: Int = 0, originColumn: Int = 0,
        threshold: Int = 12, maximumColors: Int = 255
    ) {
        precondition(pixelWidth > 0 && pixelHeight > 0 && cellHeight > 0 && cellWidth > 0)
        self.pixelWidth = pixelWidth
        self.pixelHeight = pixelHeight
        self.cellWidth = cellWidth
        self.cellHeight = cellHeight
        self.originRow = originRow
        self.originColumn = originColumn
        self.threshold = threshold
        self.maximumColors = min(255, max(2, maximumColors))
        shown = [UInt8](repeating: 0, count: pixelWidth * pixelHeight * 3)
        drawn = [Bool](repeating: false, count: (pixelHeight + cellHeight - 1) / cellHeight)
    }

    /// Text rows the tile covers.
    public var rows: Int { (pixelHeight + cellHeight - 1) / cellHeight }
    /// Text columns the tile covers.
    public var columns: Int { (pixelWidth + cellWidth - 1) / cellWidth }

    public func invalidate() {
        for index in drawn.indices { drawn[index] = false }
    }

    /// Draws a picture of `pixelWidth` x `pixelHeight` (packed RGB); returns the strips sent.
    @discardableResult
    public func draw(pixels: [UInt8], into buffer: inout VTBuffer) -> Int {
        precondition(pixels.count == pixelWidth * pixelHeight * 3, "SixelRenderer: picture of the wrong size")
        framesWithPalette += 1
        if framesWithPalette >= paletteLifetime || palette.isEmpty {
            palette = SixelRenderer.medianCut(pixels, colors: maximumColors)
            for index in lookup.indices { lookup[index] = -1 }
            framesWithPalette = 0
        }
        // Quantize once; compare strips with what is shown.
        var indices = [Int16](repeating: 0, count: pixelWidth * pixelHeight)
        pixels.withUnsafeBufferPointer { source in
            for pixel in 0..<(pixelWidth * pixelHeight) {
                let r = source[pixel * 3], g = source[pixel * 3 + 1], b = source[pixel * 3 + 2]
                let key = Int(r >> 3) << 10 | Int(g >> 3) << 5 | Int(b >> 3)
                var entry = lookup[key]
                if entry < 0 {
                    entry = Int16(nearest(RGB(r, g, b)))
                    lookup[key] = entry
                }
                indices[pixel] = entry
            }
        }
        var sent = 0
        for strip in 0..<rows {
            let top = strip * cellHeight
            let bottom = min(pixelHeight, top + cellHeight)
            // The span of columns where the shown picture is off by more than the threshold.
            var first = pixelWidth, last = -1
            if !drawn[strip] {
                first = 0
                last = pixelWidth - 1
            } else {
                pixels.withUnsafeBufferPointer { source in
                    shown.withUnsafeBufferPointer { old in
                        for y in top..<bottom {
                            var offset = y * pixelWidth * 3
                            for x in 0..<pixelWidth {
                                // Redraw a pixel only when that brings it closer to the source by more than
                                // the threshold: palette steps and sensor noise alone never do.
                                let errorShown = max(
                                    abs(Int(source[offset]) - Int(old[offset])), abs(Int(source[offset + 1]) - Int(old[offset + 1])),
                                    abs(Int(source[offset + 2]) - Int(old[offset + 2])))
                                if errorShown > threshold {
                                    let candidate = palette[Int(indices[y * pixelWidth + x])]
                                    let errorNew = max(
                                        abs(Int(source[offset]) - Int(candidate.r)), abs(Int(source[offset + 1]) - Int(candidate.g)),
                                        abs(Int(source[offset + 2]) - Int(candidate.b)))
                                    if errorShown > errorNew + threshold {
                                        first = min(first, x)
                                        last = max(last, x)
                                    }
                                }
                                offset += 3
                            }
                        }
                    }
                }
            }
            guard last >= first else { continue }
            // Images start on a cell boundary: widen the span to whole cells.
            let left = first / cellWidth * cellWidth
            let right = min(pixelWidth, (last / cellWidth + 1) * cellWidth)
            encodeStrip(indices, top: top, bottom: bottom, left: left, right: right, into: &buffer)
            for y in top..<bottom {
                for x in left..<right {
                    let color = palette[Int(indices[y * pixelWidth + x])]
                    let offset = (y * pixelWidth + x) * 3
                    shown[offset] = color.r
                    shown[offset + 1] = color.g
                    shown[offset + 2] = color.b
                }
            }
            drawn[strip] = true
            sent += 1
        }
        return sent
    }

    private func nearest(_ color: RGB) -> Int {
        var best = 0, bestDistance = Int.max
        for (index, candidate) in palette.enumerated() {
            let dr = Int(color.r) - Int(candidate.r), dg = Int(color.g) - Int(candidate.g), db = Int(color.b) - Int(candidate.b)
            let distance = 2 * dr * dr + 4 * dg * dg + 3 * db * db
            if distance < bestDistance {
                bestDistance = distance
                best = index
            }
        }
        return best
    }

    /// One DCS image for pixel rows [top, bottom) and columns [left, right), at its cell.
    private func encodeStrip(_ indices: [Int16], top: Int, bottom: Int, left: Int, right: Int, into buffer: inout VTBuffer) {
        buffer.moveTo(row: originRow + top / cellHeight, column: originColumn + left / cellWidth)
        let width = right - left
        buffer.append("\u{1B}P0;1;0q\"1;1;\(width);\(bottom - top)")
        // Colours this strip uses, defined in percent as sixel wants.
        var used = [Bool](repeating: false, count: palette.count)
        for y in top..<bottom {
            for x in left..<right { used[Int(indices[y * pixelWidth + x])] = true }
        }
        for (index, isUsed) in used.enumerated() where isUsed {
            let color = palette[index]
            buffer.append("#\(index);2;\((Int(color.r) * 100 + 127) / 255);\((Int(color.g) * 100 + 127) / 255);\((Int(color.b) * 100 + 127) / 255)")
        }
        var bits = [UInt8](repeating: 0, count: width)
        var bandTop = top
        while bandTop < bottom {
            let bandBottom = min(bottom, bandTop + 6)
            var colorsInBand: [Int] = []
            var seen = [Bool](repeating: false, count: palette.count)
            for y in bandTop..<bandBottom {
                for x in left..<right {
                    let index = Int(indices[y * pixelWidth + x])
                    if !seen[index] {
                        seen[index] = true
                        colorsInBand.append(index)
                    }
                }
            }
            for (order, color) in colorsInBand.enumerated() {
                for x in 0..<width {
                    var value: UInt8 = 0
                    for y in bandTop..<bandBottom where Int(indices[y * pixelWidth + left + x]) == color {
                        value |= 1 << UInt8(y - bandTop)
                    }
                    bits[x] = value
                }
                // Trailing empty columns need not be sent.
                var end = width
                while end > 0 && bits[end - 1] == 0 { end -= 1 }
                buffer.append("#\(color)")
                var x = 0
                while x < end {
                    var run = 1
                    while x + run < end && bits[x + run] == bits[x] { run += 1 }
                    let character = UInt8(63 + Int(bits[x]))
                    if run > 3 {
                        buffer.append("!\(run)")
                        buffer.appendByte(character)
                    } else {
                        for _ in 0..<run { buffer.appendByte(character) }
                    }
                    x += run
                }
                if order < colorsInBand.count - 1 { buffer.appendByte(UInt8(ascii: "$")) }
            }
            bandTop = bandBottom
            if bandTop < bottom { buffer.appendByte(UInt8(ascii: "-")) }
        }
        buffer.append("\u{1B}\\")
        // Where the cursor lands after an image differs between terminals: unknown.
        buffer.forgetCursor()
    }

    /// A palette of at most `colors` entries by median cut over a 15-bit histogram.
    static func medianCut(_ pixels: [UInt8], colors: Int) -> [RGB] {
        var histogram = [Int32](repeating: 0, count: 1 << 15)
        var index = 0
        while index < pixels.count {
            let key = Int(pixels[index] >> 3) << 10 | Int(pixels[index + 1] >> 3) << 5 | Int(pixels[index + 2] >> 3)
            histogram[key] += 1
            index += 3
        }
        var boxes: [[Int]] = [histogram.indices.filter { histogram[$0] > 0 }]
        while boxes.count < colors {
            // Split the box with the widest channel range (weighted by its population).
            var bestBox = -1, bestScore = 0, bestChannel = 0
            for (boxIndex, box) in boxes.enumerated() where box.count > 1 {
                for channel in 0..<3 {
                    let shift = 10 - channel * 5
                    var low = 31, high = 0
                    for key in box {
                        let value = (key >> shift) & 31
                        low = min(low, value)
                        high = max(high, value)
                    }
                    let score = (high - low) * Int(box.count)
                    if score > bestScore {
                        bestScore = score
                        bestBox = boxIndex
                        bestChannel = channel
                    }
                }
            }
            guard bestBox >= 0 else { break }
            let shift = 10 - bestChannel * 5
            let sorted = boxes[bestBox].sorted { ($0 >> shift) & 31 < ($1 >> shift) & 31 }
            let total = sorted.reduce(0) { $0 + Int(histogram[$1]) }
            var running = 0, cut = 1
            for (position, key) in sorted.enumerated() {
                running += Int(histogram[key])
                if running * 2 >= total {
                    cut = max(1, min(sorted.count - 1, position + 1))
                    break
                }
            }
            boxes[bestBox] = Array(sorted[..<cut])
            boxes.append(Array(sorted[cut...]))
        }
        return boxes.map { box in
            var r = 0, g = 0, b = 0, n = 0
            for key in box {
                let count = Int(histogram[key])
                r += (((key >> 10) & 31) << 3 | 4) * count
                g += (((key >> 5) & 31) << 3 | 4) * count
                b += ((key & 31) << 3 | 4) * count
                n += count
            }
            return RGB(UInt8(r / max(1, n)), UInt8(g / max(1, n)), UInt8(b / max(1, n)))
        }
    }
}

extension VTBuffer {
    @inline(__always)
    mutating func appendByte(_ byte: UInt8) { appendRaw(byte) }
}
