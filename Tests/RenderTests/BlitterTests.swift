import Render
import Testing

/// A picture of `columns * w` x `rows * h` pixels from a function of (x, y).
func picture(width: Int, height: Int, _ color: (Int, Int) -> RGB) -> [UInt8] {
    var pixels: [UInt8] = []
    pixels.reserveCapacity(width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            let c = color(x, y)
            pixels += [c.r, c.g, c.b]
        }
    }
    return pixels
}

let red = RGB(220, 20, 30), blue = RGB(20, 40, 200), white = RGB(240, 240, 240), black = RGB(10, 10, 10)

@Suite struct BlitterTests {
    @Test func halfBlocksAreExact() {
        let pixels = picture(width: 2, height: 2) { x, y in y == 0 ? (x == 0 ? red : blue) : white }
        let cells = Blitter.half.cells(pixels: pixels, columns: 2, rows: 1)
        #expect(cells[0] == Cell(mask: 2, foreground: white, background: red))
        #expect(cells[1] == Cell(mask: 2, foreground: white, background: blue))
        #expect(Blitter.half.glyph(for: 2) == "\u{2584}")
    }

    @Test func aCellOfOneColourHasNoForeground() {
        for blitter in Blitter.allCases {
            let pixels = picture(width: blitter.width, height: blitter.height) { _, _ in red }
            #expect(blitter.cells(pixels: pixels, columns: 1, rows: 1) == [Cell(mask: 0, foreground: red, background: red)])
        }
    }

    @Test func quadrantsFindTheDiagonal() {
        // Top-left and bottom-right red, the other two blue: "▞" with blue ink on red.
        let pixels = picture(width: 2, height: 2) { x, y in (x == y) ? red : blue }
        let cell = Blitter.quadrant.cells(pixels: pixels, columns: 1, rows: 1)[0]
        #expect(cell == Cell(mask: 0b0110, foreground: blue, background: red))
        #expect(Blitter.quadrant.glyph(for: cell.mask) == "\u{259E}")
    }

    @Test func sextantsPickTheBestSplitAndItsMeanColours() {
        // Left column and the top-right pixel white; the rest black, with a little noise.
        let pixels = picture(width: 2, height: 3) { x, y in
            (x == 0 || y == 0) ? RGB(240, 240, 240) : RGB(UInt8(10 + y), 10, 10)
        }
        let cell = Blitter.sextant.cells(pixels: pixels, columns: 1, rows: 1)[0]
        // Pixel 0 (top left) is white, so black is the ink: pixels 3 and 5 (mid and bottom right).
        #expect(cell.mask == 0b101000)
        #expect(cell.background == RGB(240, 240, 240))
        #expect(cell.foreground == RGB(12, 10, 10))
        #expect(Blitter.sextant.glyph(for: 0b101000) == "\u{1FB26}")  // BLOCK SEXTANT-46
    }

    @Test func asciiCharactersArePrintableAndReadBack() {
        let count = Blitter.asciiGlyphCount
        #expect(count > 40)
        #expect(Blitter.ascii.glyph(for: 0) == " ")
        for index in 0..<count {
            let glyph = Blitter.ascii.glyph(for: UInt8(index))
            #expect((0x20...0x7E).contains(glyph.value), "\(glyph)")
            #expect(Blitter.ascii.mask(for: glyph) == UInt8(index))
        }
    }

    /// Squared error between what a viewer sees of a cell and the pixels it stands for.
    func shownError(_ blitter: Blitter, _ cell: Cell, _ pixels: [UInt8]) -> Int {
        (0..<blitter.pixelsPerCell).reduce(0) { total, index in
            let shown = blitter.color(of: cell, pixel: index)
            let r = Int(shown.r) - Int(pixels[index * 3]), g = Int(shown.g) - Int(pixels[index * 3 + 1])
            let b = Int(shown.b) - Int(pixels[index * 3 + 2])
            return total + r * r + g * g + b * b
        }
    }

    @Test(arguments: ["top", "bottom", "left", "right", "diagonal", "corner"])
    func asciiFollowsTheShapeOfTheCell(shape: String) {
        // A soft shape (within what a character's ink can draw): the character must put the
        // light where the picture has it.
        let dark = RGB(110, 108, 104), light = RGB(134, 130, 124)
        let lit: (Int, Int) -> Bool = { x, y in
            switch shape {
            case "top": return y == 0
            case "bottom": return y == 1
            case "left": return x == 0
            case "right": return x == 1
            case "diagonal": return x == y
            default: return x == 1 && y == 1
            }
        }
        let pixels = picture(width: 2, height: 2) { x, y in lit(x, y) ? light : dark }
        let cell = Blitter.ascii.cells(pixels: pixels, columns: 1, rows: 1)[0]
        #expect(cell.mask != 0, "\(shape): a character, not a space")
        let brightness = (0..<4).map { index in Int(Blitter.ascii.color(of: cell, pixel: index).g) }
        for index in 0..<4 where lit(index % 2, index / 2) {
            for other in 0..<4 where !lit(other % 2, other / 2) {
                #expect(brightness[index] > brightness[other], "\(shape) as \(Blitter.ascii.glyph(for: cell.mask)): \(brightness)")
            }
        }
        // Better than the cell's mean colour alone.
        func mean(_ channel: Int) -> UInt8 {
            var total = 0
            for index in 0..<4 { total += Int(pixels[index * 3 + channel]) }
            return UInt8(total / 4)
        }
        let average = RGB(mean(0), mean(1), mean(2))
        #expect(shownError(.ascii, cell, pixels) < shownError(.ascii, Cell(mask: 0, foreground: average, background: average), pixels))
    }

    @Test func sextantGlyphsAreDistinctAndReadBack() {
        let glyphs = (0..<64).map { Blitter.sextant.glyph(for: UInt8($0)) }
        #expect(Set(glyphs).count == 64)
        #expect(glyphs[21] == "\u{258C}" && glyphs[42] == "\u{2590}" && glyphs[63] == "\u{2588}")
        #expect(glyphs[1] == "\u{1FB00}" && glyphs[62] == "\u{1FB3B}")
        for mask in 0..<64 { #expect(Blitter.sextant.mask(for: glyphs[mask]) == UInt8(mask)) }
        // Unicode names each sextant by its inked cells, 1 to 6 in reading order.
        for mask in 1..<63 where mask != 21 && mask != 42 {
            let cells = (0..<6).filter { mask & (1 << $0) != 0 }.map { String($0 + 1) }.joined()
            #expect(glyphs[mask].properties.name == "BLOCK SEXTANT-\(cells)")
        }
    }

    @Test func palettesQuantizeToTheirNearestColour() {
        #expect(Palette.nearest256(RGB(255, 0, 0)) == 196)
        #expect(Palette.nearest256(RGB(128, 128, 128)) == 244)  // the grey ramp beats the cube
        #expect(Palette.nearest256(RGB(0, 95, 135)) == 24)
        #expect(Palette.nearest16(RGB(250, 10, 10)) == 9)
        #expect(Palette.nearest16(RGB(5, 5, 5)) == 0)
        #expect(ColorMode.palette256.quantize(RGB(0, 95, 135)) == RGB(0, 95, 135))
    }
}

@Suite struct CellRendererTests {
    func frame(_ columns: Int, _ rows: Int, _ color: (Int, Int) -> RGB) -> [UInt8] {
        picture(width: columns, height: rows * 2, color)
    }

    @Test func sendsNothingWhenNothingChanged() {
        let renderer = CellRenderer(columns: 20, rows: 5, blitter: .half, colorMode: .truecolor)
        var buffer = VTBuffer(colorMode: .truecolor)
        let pixels = frame(20, 5) { x, y in RGB(UInt8(x * 10), UInt8(y * 20), 90) }
        #expect(renderer.draw(pixels: pixels, into: &buffer) == 100)
        _ = buffer.drain()
        renderer.refreshEvery = 0
        #expect(renderer.draw(pixels: pixels, into: &buffer) == 0)
        #expect(buffer.bytes.isEmpty)
    }

    @Test func noiseBelowTheThresholdCostsNothingAndAChangeOnlyItsCells() {
        let renderer = CellRenderer(columns: 20, rows: 5, originRow: 3, originColumn: 7, blitter: .half, colorMode: .truecolor, threshold: 8)
        renderer.refreshEvery = 0
        var buffer = VTBuffer(colorMode: .truecolor)
        renderer.draw(pixels: frame(20, 5) { _, _ in RGB(100, 100, 100) }, into: &buffer)
        _ = buffer.drain()
        // Grain of +-3 levels everywhere.
        #expect(renderer.draw(pixels: frame(20, 5) { x, y in RGB(UInt8(100 + (x * 7 + y * 3) % 7 - 3), 100, 100) }, into: &buffer) == 0)
        // A white object covering cells 4 and 5 of row 2.
        let sent = renderer.draw(pixels: frame(20, 5) { x, y in (y / 2 == 2 && (4...5).contains(x)) ? white : RGB(100, 100, 100) }, into: &buffer)
        #expect(sent == 2)
        let text = String(decoding: buffer.drain(), as: UTF8.self)
        // Absolute position of row 2, column 4 in the tile (1-based: row 6, column 12), colour set once.
        #expect(text == "\u{1B}[6;12H\u{1B}[48;2;240;240;240m  ")
    }

    @Test func coloursInEffectAreNotRepeated() {
        let renderer = CellRenderer(columns: 30, rows: 1, blitter: .half, colorMode: .truecolor)
        var buffer = VTBuffer(colorMode: .truecolor)
        renderer.draw(pixels: frame(30, 1) { _, y in y == 0 ? red : blue }, into: &buffer)
        let text = String(decoding: buffer.drain(), as: UTF8.self)
        #expect(text.filter { $0 == "\u{1B}" }.count == 2)  // one cursor move, one colour change
        #expect(text.hasSuffix(String(repeating: "\u{2584}", count: 30)))
    }

    @Test func theBackgroundRefreshConvergesOnSmallChanges() {
        let renderer = CellRenderer(columns: 4, rows: 3, blitter: .half, colorMode: .truecolor, threshold: 12)
        renderer.refreshEvery = 1
        var buffer = VTBuffer(colorMode: .truecolor)
        renderer.draw(pixels: frame(4, 3) { _, _ in RGB(100, 100, 100) }, into: &buffer)
        // A slow change of 6 levels: under the threshold, over a third of it.
        let target = frame(4, 3) { _, _ in RGB(106, 100, 100) }
        for _ in 0..<3 { renderer.draw(pixels: target, into: &buffer) }
        #expect(renderer.shownCells.allSatisfy { $0.background == RGB(106, 100, 100) })
    }

    @Test func palettesUseTheirOwnCodes() {
        var buffer = VTBuffer(colorMode: .palette256)
        CellRenderer(columns: 1, rows: 1, blitter: .half, colorMode: .palette256).draw(pixels: frame(1, 1) { _, y in y == 0 ? RGB(255, 0, 0) : RGB(0, 0, 255) }, into: &buffer)
        #expect(String(decoding: buffer.drain(), as: UTF8.self) == "\u{1B}[1;1H\u{1B}[38;5;21;48;5;196m\u{2584}")
        var sixteen = VTBuffer(colorMode: .palette16)
        CellRenderer(columns: 1, rows: 1, blitter: .half, colorMode: .palette16).draw(pixels: frame(1, 1) { _, y in y == 0 ? RGB(255, 0, 0) : RGB(0, 0, 0) }, into: &sixteen)
        #expect(String(decoding: sixteen.drain(), as: UTF8.self) == "\u{1B}[1;1H\u{1B}[30;101m\u{2584}")
    }
}
