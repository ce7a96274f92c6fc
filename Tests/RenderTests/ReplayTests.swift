import Foundation
import Render
import TestSupport
import Testing

/// The renderer's bytes replayed by pyte, an independent terminal emulator
/// (scripts/vt-replay): the screen it ends with must show the picture.
@Suite struct ReplayTests {
    /// A street-like test picture at any size: sky gradient, façades with windows, a road, a red car.
    static func scene(width: Int, height: Int, carAt carX: Double = 0.3) -> [UInt8] {
        picture(width: width, height: height) { x, y in
            let fx = Double(x) / Double(width), fy = Double(y) / Double(height)
            if fy < 0.25 { return RGB(UInt8(150 + 60 * fy), UInt8(175 + 40 * fy), 215) }
            if fy < 0.6 {
                let window = (Int(fx * 24) % 3 == 1) && (Int(fy * 20) % 3 == 1)
                return window ? RGB(44, 54, 68) : (Int(fx * 5) % 2 == 0 ? RGB(226, 214, 186) : RGB(200, 190, 170))
            }
            if fy > 0.7 && fy < 0.85 && fx > carX && fx < carX + 0.25 { return RGB(196, 28, 36) }
            if fy > 0.85 && fy < 0.9 && (fx > carX + 0.03 && fx < carX + 0.08 || fx > carX + 0.17 && fx < carX + 0.22) {
                return RGB(18, 18, 20)
            }
            return fy > 0.92 ? RGB(152, 150, 144) : RGB(72, 72, 76)
        }
    }

    struct ScreenCell {
        let glyph: Unicode.Scalar
        let foreground: RGB
        let background: RGB
    }

    func replay(_ bytes: [UInt8], columns: Int, rows: Int) throws -> [[ScreenCell]] {
        let file = TestPaths.temporaryFolder("replay").appendingPathComponent("out.vt")
        try Data(bytes).write(to: file)
        let result = try runProgram(
            "/usr/bin/env", ["python3", TestPaths.repository.appendingPathComponent("scripts/vt-replay").path, file.path, "\(columns)", "\(rows)"])
        guard result.status == 0 else { throw FixtureError("vt-replay failed: \(result.stderr)") }
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [[[String]]]
        func rgb(_ hex: String) -> RGB {
            let value = UInt32(hex, radix: 16) ?? 0
            return RGB(UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF))
        }
        return json.map { row in
            row.map { ScreenCell(glyph: $0[0].unicodeScalars.first!, foreground: rgb($0[1]), background: rgb($0[2])) }
        }
    }

    /// The pixels the screen shows in the renderer's rectangle.
    func rebuild(_ screen: [[ScreenCell]], blitter: Blitter, columns: Int, rows: Int) throws -> [UInt8] {
        let width = columns * blitter.width, height = rows * blitter.height
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for row in 0..<rows {
            for column in 0..<columns {
                let cell = screen[row][column]
                let mask = try #require(blitter.mask(for: cell.glyph), "unexpected glyph \(cell.glyph) at \(row),\(column)")
                let shown = Cell(mask: mask, foreground: cell.foreground, background: cell.background)
                for index in 0..<blitter.pixelsPerCell {
                    let color = blitter.color(of: shown, pixel: index)
                    let x = column * blitter.width + index % blitter.width, y = row * blitter.height + index / blitter.width
                    pixels[(y * width + x) * 3] = color.r
                    pixels[(y * width + x) * 3 + 1] = color.g
                    pixels[(y * width + x) * 3 + 2] = color.b
                }
            }
        }
        return pixels
    }

    func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
        var sum = 0.0
        for index in a.indices {
            let d = Double(a[index]) - Double(b[index])
            sum += d * d
        }
        let mse = sum / Double(a.count)
        return mse == 0 ? 99 : 10 * log10(255 * 255 / mse)
    }

    @Test(arguments: [
        (Blitter.half, ColorMode.truecolor, 99.0), (.quadrant, .truecolor, 40), (.sextant, .truecolor, 40),
        (.half, .palette256, 26), (.sextant, .palette256, 26), (.half, .palette16, 13),
        (.ascii, .truecolor, 20.5), (.ascii, .palette256, 19.5),
    ])
    func anIndependentEmulatorShowsThePicture(blitter: Blitter, colorMode: ColorMode, minimumPSNR: Double) throws {
        let columns = 40, rows = 12
        let renderer = CellRenderer(columns: columns, rows: rows, blitter: blitter, colorMode: colorMode)
        let source = ReplayTests.scene(width: renderer.pixelWidth, height: renderer.pixelHeight)
        var buffer = VTBuffer(colorMode: colorMode)
        buffer.beginSynchronizedUpdate()
        renderer.draw(pixels: source, into: &buffer)
        buffer.resetAttributes()
        buffer.endSynchronizedUpdate()
        let screen = try replay(buffer.drain(), columns: columns, rows: rows)
        let shown = try rebuild(screen, blitter: blitter, columns: columns, rows: rows)
        let quality = psnr(shown, source)
        print("replay \(blitter) \(colorMode): \(String(format: "%.2f", quality)) dB")
        #expect(quality >= minimumPSNR, "\(blitter) \(colorMode): \(quality) dB")
    }

    @Test func asciiShowsMoreThanOneColourACell() throws {
        let columns = 40, rows = 12
        let renderer = CellRenderer(columns: columns, rows: rows, blitter: .ascii, colorMode: .truecolor)
        let source = ReplayTests.scene(width: renderer.pixelWidth, height: renderer.pixelHeight)
        var buffer = VTBuffer(colorMode: .truecolor)
        renderer.draw(pixels: source, into: &buffer)
        buffer.resetAttributes()
        let screen = try replay(buffer.drain(), columns: columns, rows: rows)
        let shown = try rebuild(screen, blitter: .ascii, columns: columns, rows: rows)
        // The same screen with every cell in its pixels' mean colour: what ASCII is without its characters.
        var flat = source
        for row in 0..<rows {
            for column in 0..<columns {
                for channel in 0..<3 {
                    let offsets = [(0, 0), (1, 0), (0, 1), (1, 1)].map { x, y in ((row * 2 + y) * columns * 2 + column * 2 + x) * 3 + channel }
                    let mean = UInt8((offsets.map { Int(source[$0]) }.reduce(0, +) + 2) / 4)
                    for offset in offsets { flat[offset] = mean }
                }
            }
        }
        let characters = screen.joined().filter { $0.glyph != " " }.count
        print("replay ascii: \(String(format: "%.2f", psnr(shown, source))) dB, one colour a cell \(String(format: "%.2f", psnr(flat, source))) dB, \(characters) characters")
        #expect(characters > columns * rows / 10)
        #expect(psnr(shown, source) > psnr(flat, source) + 0.5)
    }

    @Test(arguments: [Blitter.half, .sextant])
    func aSequenceOfDifferencesEndsOnTheLastPicture(blitter: Blitter) throws {
        let columns = 40, rows = 12
        let renderer = CellRenderer(columns: columns, rows: rows, blitter: blitter, colorMode: .truecolor)
        var buffer = VTBuffer(colorMode: .truecolor)
        var last: [UInt8] = []
        var sentAfterFirst = 0
        for step in 0..<10 {
            last = ReplayTests.scene(width: renderer.pixelWidth, height: renderer.pixelHeight, carAt: 0.1 + 0.05 * Double(step))
            let sent = renderer.draw(pixels: last, into: &buffer)
            if step > 0 { sentAfterFirst = max(sentAfterFirst, sent) }
            buffer.resetAttributes()
        }
        // Only the car's cells change from frame to frame.
        #expect(sentAfterFirst < columns * rows / 4)
        let shown = try rebuild(try replay(buffer.drain(), columns: columns, rows: rows), blitter: blitter, columns: columns, rows: rows)
        let reference = try rebuild(
            try replay(fullFrame(last, blitter: blitter, columns: columns, rows: rows), columns: columns, rows: rows),
            blitter: blitter, columns: columns, rows: rows)
        #expect(psnr(shown, reference) >= 40)
    }

    func fullFrame(_ pixels: [UInt8], blitter: Blitter, columns: Int, rows: Int) -> [UInt8] {
        var buffer = VTBuffer(colorMode: .truecolor)
        CellRenderer(columns: columns, rows: rows, blitter: blitter, colorMode: .truecolor).draw(pixels: pixels, into: &buffer)
        return buffer.drain()
    }
}
