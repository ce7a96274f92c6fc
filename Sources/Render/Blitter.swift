/// How a cell of text shows pixels: one of the block-element blitters, or ASCII.
///
/// Each cell covers `width` x `height` pixels and shows two colours. With block elements
/// the foreground fills the pixels of the glyph's mask and the background the others;
/// with ASCII a character's ink covers part of each quarter of its cell, so a quarter
/// shows a blend of the two colours (`asciiGlyphCoverage`).
public enum Blitter: String, Sendable, CaseIterable {
    /// Upper half block: 1x2 pixels a cell.
    case half
    /// Quadrants: 2x2 pixels a cell.
    case quadrant
    /// Sextants (Unicode 13): 2x3 pixels a cell.
    case sextant
    /// Printable ASCII characters chosen by the ink they put in each quarter of the cell,
    /// with the two colours fitted to the picture: 2x2 pixels a cell, for fonts and
    /// terminals without block elements.
    case ascii

    public var width: Int { self == .half ? 1 : 2 }
    public var height: Int {
        switch self {
        case .half, .quadrant, .ascii: return 2
        case .sextant: return 3
        }
    }
    public var pixelsPerCell: Int { width * height }
    var fullMask: UInt8 { UInt8((1 << pixelsPerCell) - 1) }

    /// The glyph whose ink covers the pixels of `mask` (bit i = pixel i, row-major); for
    /// ASCII, `mask` is the index of the character in `asciiGlyphCoverage`.
    public func glyph(for mask: UInt8) -> Unicode.Scalar {
        switch self {
        case .half: return Blitter.halfGlyphs[Int(mask)]
        case .quadrant: return Blitter.quadrantGlyphs[Int(mask)]
        case .sextant: return Blitter.sextantGlyphs[Int(mask)]
        case .ascii: return Blitter.asciiGlyphCoverage[Int(mask)].glyph
        }
    }

    /// The mask of a glyph this blitter draws, or nil: for reading a screen back.
    public func mask(for glyph: Unicode.Scalar) -> UInt8? {
        let table: [Unicode.Scalar]
        switch self {
        case .half: table = Blitter.halfGlyphs
        case .quadrant: table = Blitter.quadrantGlyphs
        case .sextant: table = Blitter.sextantGlyphs
        case .ascii: table = Blitter.asciiGlyphs
        }
        return table.firstIndex(of: glyph).map { UInt8($0) }
    }

    /// The colour a viewer sees at pixel `index` of a cell this blitter made.
    public func color(of cell: Cell, pixel index: Int) -> RGB {
        guard self == .ascii, cell.mask != 0 else { return cell.color(ofPixel: index) }
        let ink = Blitter.asciiGlyphCoverage[Int(cell.mask)].coverage[index]
        func blend(_ background: UInt8, _ foreground: UInt8) -> UInt8 {
            UInt8((Float(background) + ink * (Float(foreground) - Float(background))).rounded())
        }
        return RGB(
            blend(cell.background.r, cell.foreground.r), blend(cell.background.g, cell.foreground.g),
            blend(cell.background.b, cell.foreground.b))
    }

    /// The largest channel difference between what two cells show, pixel by pixel; a cell
    /// never drawn (`Cell.unknown`) differs from everything.
    @inline(__always)
    func difference(_ cell: Cell, from shown: Cell) -> Int {
        if cell == shown { return 0 }
        if shown == Cell.unknown { return Int.max }
        guard self == .ascii else { return cell.difference(from: shown, pixels: pixelsPerCell) }
        var worst = 0
        for index in 0..<4 { worst = max(worst, color(of: cell, pixel: index).distance(to: color(of: shown, pixel: index))) }
        return worst
    }

    /// How many characters the ASCII blitter draws with (masks 0 to count - 1).
    public static var asciiGlyphCount: Int { asciiGlyphCoverage.count }

    static let asciiGlyphs: [Unicode.Scalar] = asciiGlyphCoverage.map(\.glyph)

    static let halfGlyphs: [Unicode.Scalar] = [" ", "\u{2580}", "\u{2584}", "\u{2588}"]

    static let quadrantGlyphs: [Unicode.Scalar] = [
        " ", "\u{2598}", "\u{259D}", "\u{2580}", "\u{2596}", "\u{258C}", "\u{259E}", "\u{259B}",
        "\u{2597}", "\u{259A}", "\u{2590}", "\u{259C}", "\u{2584}", "\u{2599}", "\u{259F}", "\u{2588}",
    ]

    /// U+1FB00... in the order of Unicode's sextant numbering (bit 0 = top left), which
    /// leaves out the patterns older blocks already draw: left half, right half, full.
    static let sextantGlyphs: [Unicode.Scalar] = (0..<64).map { pattern in
        switch pattern {
        case 0: return " "
        case 21: return "\u{258C}"
        case 42: return "\u{2590}"
        case 63: return "\u{2588}"
        default:
            let index = pattern - 1 - (pattern > 21 ? 1 : 0) - (pattern > 42 ? 1 : 0)
            return Unicode.Scalar(0x1FB00 + UInt32(index))!
        }
    }
}

/// One text cell as the renderer draws it: the mask of pixels in the foreground colour.
/// Kept canonical so equal pictures make equal cells: a cell of one colour has mask 0
/// and only a background.
public struct Cell: Equatable, Sendable {
    public var mask: UInt8
    public var foreground: RGB
    public var background: RGB

    public init(mask: UInt8, foreground: RGB, background: RGB) {
        self.mask = mask
        self.foreground = foreground
        self.background = background
    }

    /// The colour of pixel `index` of the cell.
    @inline(__always)
    public func color(ofPixel index: Int) -> RGB { mask & (1 << index) != 0 ? foreground : background }

    /// The largest channel difference between what two cells show, pixel by pixel.
    @inline(__always)
    func difference(from other: Cell, pixels: Int) -> Int {
        if self == other { return 0 }
        var worst = 0
        for index in 0..<pixels { worst = max(worst, color(ofPixel: index).distance(to: other.color(ofPixel: index))) }
        return worst
    }

    /// The cell in the colours `colorMode` shows, kept canonical: one colour, no foreground.
    @inline(__always)
    func shown(in colorMode: ColorMode) -> Cell {
        var cell = self
        if colorMode != .truecolor {
            cell.foreground = colorMode.quantize(cell.foreground)
            cell.background = colorMode.quantize(cell.background)
        }
        return cell.mask == 0 || cell.foreground == cell.background
            ? Cell(mask: 0, foreground: cell.background, background: cell.background) : cell
    }

    /// A cell never drawn: differs from any picture (no blitter makes a cell of mask 0
    /// with two colours).
    static let unknown = Cell(mask: 0, foreground: RGB(0, 0, 0), background: RGB(1, 2, 3))
}

extension Blitter {
    /// Turns a picture of exactly `columns * width` x `rows * height` pixels (packed RGB)
    /// into cells. For each cell it tries every split of its pixels into two groups and
    /// keeps the one with the least squared error against the groups' mean colours.
    public func cells(pixels: [UInt8], columns: Int, rows: Int, colorMode: ColorMode = .truecolor) -> [Cell] {
        var cells: [Cell] = []
        self.cells(pixels: pixels, columns: columns, rows: rows, colorMode: colorMode, into: &cells)
        return cells
    }

    /// The same, into a caller's array (reused from frame to frame: no allocation).
    public func cells(pixels: [UInt8], columns: Int, rows: Int, colorMode: ColorMode, into cells: inout [Cell]) {
        precondition(pixels.count == columns * width * rows * height * 3, "Blitter: picture of the wrong size")
        if cells.count != columns * rows { cells = [Cell](repeating: Cell.unknown, count: columns * rows) }
        if self == .half {
            halfCells(pixels: pixels, columns: columns, rows: rows, colorMode: colorMode, into: &cells)
            return
        }
        if self == .ascii {
            asciiCells(pixels: pixels, columns: columns, rows: rows, colorMode: colorMode, into: &cells)
            return
        }
        let stride = columns * width * 3
        let count = pixelsPerCell
        let full = fullMask
        pixels.withUnsafeBufferPointer { source in
            var r = [Int](repeating: 0, count: 6), g = r, b = r
            for row in 0..<rows {
                for column in 0..<columns {
                    let origin = row * height * stride + column * width * 3
                    var totalR = 0, totalG = 0, totalB = 0
                    for index in 0..<count {
                        let offset = origin + (index / width) * stride + (index % width) * 3
                        r[index] = Int(source[offset])
                        g[index] = Int(source[offset + 1])
                        b[index] = Int(source[offset + 2])
                        totalR += r[index]
                        totalG += g[index]
                        totalB += b[index]
                    }
                    // Masks with pixel 0 in the background cover every split once.
                    var bestMask: UInt8 = 0
                    var bestScore = (totalR * totalR + totalG * totalG + totalB * totalB) * 1_000 / count
                    var mask = 2
                    while mask <= Int(full) {
                        var sr = 0, sg = 0, sb = 0, n = 0
                        var bits = mask
                        var index = 0
                        while bits != 0 {
                            if bits & 1 != 0 {
                                sr += r[index]
                                sg += g[index]
                                sb += b[index]
                                n += 1
                            }
                            bits >>= 1
                            index += 1
                        }
                        let m = count - n
                        let br = totalR - sr, bg = totalG - sg, bb = totalB - sb
                        // Maximising sum |S|^2/n over both groups minimises the squared error.
                        let score = (sr * sr + sg * sg + sb * sb) * 1_000 / n + (br * br + bg * bg + bb * bb) * 1_000 / m
                        if score > bestScore {
                            bestScore = score
                            bestMask = UInt8(mask)
                        }
                        mask += 2
                    }
                    var sr = 0, sg = 0, sb = 0, n = 0
                    for index in 0..<count where bestMask & (1 << index) != 0 {
                        sr += r[index]
                        sg += g[index]
                        sb += b[index]
                        n += 1
                    }
                    let m = count - n
                    let background = RGB(
                        UInt8((totalR - sr + m / 2) / m), UInt8((totalG - sg + m / 2) / m), UInt8((totalB - sb + m / 2) / m))
                    let cell: Cell
                    if n == 0 {
                        cell = Cell(mask: 0, foreground: background, background: background)
                    } else {
                        let foreground = RGB(UInt8((sr + n / 2) / n), UInt8((sg + n / 2) / n), UInt8((sb + n / 2) / n))
                        cell = Cell(mask: bestMask, foreground: foreground, background: background)
                    }
                    cells[row * columns + column] = cell.shown(in: colorMode)
                }
            }
        }
    }

    /// Half blocks need no search: the lower pixel is the foreground of "▄", the upper
    /// one the background.
    private func halfCells(pixels: [UInt8], columns: Int, rows: Int, colorMode: ColorMode, into cells: inout [Cell]) {
        let stride = columns * 3
        pixels.withUnsafeBufferPointer { source in
            cells.withUnsafeMutableBufferPointer { output in
                for row in 0..<rows {
                    var top = row * 2 * stride
                    var bottom = top + stride
                    let base = row * columns
                    for column in 0..<columns {
                        var upper = RGB(source[top], source[top + 1], source[top + 2])
                        var lower = RGB(source[bottom], source[bottom + 1], source[bottom + 2])
                        if colorMode != .truecolor {
                            upper = colorMode.quantize(upper)
                            lower = colorMode.quantize(lower)
                        }
                        output[base + column] =
                            upper == lower
                            ? Cell(mask: 0, foreground: upper, background: upper)
                            : Cell(mask: 2, foreground: lower, background: upper)
                        top += 3
                        bottom += 3
                    }
                }
            }
        }
    }
}
