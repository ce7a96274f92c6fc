import Foundation
import Render
import TestSupport
import Testing

/// Sixel output decoded by libsixel (`sixel2png`), an independent decoder: each DCS image
/// is decoded alone and pasted where its cursor move puts it.
@Suite struct SixelTests {
    struct Image {
        let row: Int
        let column: Int
        let width: Int
        let height: Int
        let pixels: [UInt8]
        let bytes: Int
    }

    /// Splits a stream into its positioned sixel images and decodes each with sixel2png.
    func decode(_ stream: [UInt8]) throws -> [Image] {
        let text = String(decoding: stream, as: UTF8.self)
        var images: [Image] = []
        let folder = TestPaths.temporaryFolder("sixel")
        var rest = Substring(text)
        while let start = rest.range(of: "\u{1B}P") {
            // The cursor move just before the image: ESC [ row ; col H.
            let before = rest[..<start.lowerBound]
            guard let move = before.range(of: "\u{1B}[", options: .backwards) else { throw FixtureError("image without position") }
            let numbers = before[move.upperBound...].dropLast().split(separator: ";").compactMap { Int($0) }
            guard let end = rest.range(of: "\u{1B}\\", range: start.upperBound..<rest.endIndex) else { throw FixtureError("unterminated DCS") }
            let dcs = String(rest[start.lowerBound..<end.upperBound])
            let raster = dcs.split(separator: "\"")[1].prefix { $0 != "#" }.split(separator: ";").compactMap { Int($0) }
            let file = folder.appendingPathComponent("\(images.count).six"), png = folder.appendingPathComponent("\(images.count).png")
            try Data(dcs.utf8).write(to: file)
            let decoded = try runProgram("/usr/bin/sixel2png", ["-i", file.path, "-o", png.path])
            guard decoded.status == 0 else { throw FixtureError("sixel2png: \(decoded.stderr)") }
            let rgb = folder.appendingPathComponent("\(images.count).rgb")
            let converted = try runProgram("/usr/bin/ffmpeg", ["-v", "error", "-y", "-i", png.path, "-f", "rawvideo", "-pix_fmt", "rgb24", rgb.path])
            guard converted.status == 0, let data = FileManager.default.contents(atPath: rgb.path) else {
                throw FixtureError("ffmpeg: \(converted.stderr)")
            }
            images.append(
                Image(
                    row: numbers[0] - 1, column: numbers[1] - 1, width: raster[2], height: raster[3], pixels: Array(data),
                    bytes: dcs.utf8.count))
            rest = rest[end.upperBound...]
        }
        return images
    }

    func paste(_ images: [Image], into canvas: inout [UInt8], width: Int, cell: (Int, Int)) {
        for image in images {
            for y in 0..<image.height {
                for x in 0..<image.width {
                    let cx = image.column * cell.0 + x, cy = image.row * cell.1 + y
                    guard cx < width, (cy * width + cx) * 3 + 2 < canvas.count else { continue }
                    for channel in 0..<3 { canvas[(cy * width + cx) * 3 + channel] = image.pixels[(y * image.width + x) * 3 + channel] }
                }
            }
        }
    }

    func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
        var sum = 0.0
        for index in a.indices {
            let d = Double(a[index]) - Double(b[index])
            sum += d * d
        }
        return sum == 0 ? 99 : 10 * log10(255 * 255 / (sum / Double(a.count)))
    }

    @Test func libsixelDecodesThePictureAndItsUpdates() throws {
        let width = 160, height = 96, cell = (8, 16)
        let renderer = SixelRenderer(pixelWidth: width, pixelHeight: height, cellWidth: cell.0, cellHeight: cell.1)
        var buffer = VTBuffer(colorMode: .truecolor)
        let first = ReplayTests.scene(width: width, height: height, carAt: 0.1)
        #expect(renderer.draw(pixels: first, into: &buffer) == 6)
        let firstImages = try decode(buffer.drain())
        #expect(firstImages.count == 6)
        var canvas = [UInt8](repeating: 0, count: width * height * 3)
        paste(firstImages, into: &canvas, width: width, cell: cell)
        let firstQuality = psnr(canvas, first)
        #expect(firstQuality >= 30, "first frame \(firstQuality) dB")

        // The car moves: only its strips go out, each only as wide as the change.
        let second = ReplayTests.scene(width: width, height: height, carAt: 0.2)
        let strips = renderer.draw(pixels: second, into: &buffer)
        let secondImages = try decode(buffer.drain())
        #expect(strips == secondImages.count && strips >= 1 && strips <= 3)
        #expect(secondImages.allSatisfy { $0.width < width })
        paste(secondImages, into: &canvas, width: width, cell: cell)
        let secondQuality = psnr(canvas, second)
        #expect(secondQuality >= 30, "second frame \(secondQuality) dB")

        // Nothing moves: nothing is sent.
        #expect(renderer.draw(pixels: second, into: &buffer) == 0)
        #expect(buffer.bytes.isEmpty)
    }

    @Test func everyImageStaysUnderTmuxsLimit() throws {
        // A noisy full-width tile of 640x480, the largest a wall pane sends at once.
        let width = 640, height = 480
        var random = SystemRandomNumberGenerator()
        let noise = (0..<(width * height * 3)).map { _ in UInt8.random(in: 0...255, using: &random) }
        let renderer = SixelRenderer(pixelWidth: width, pixelHeight: height, cellWidth: 10, cellHeight: 20)
        var buffer = VTBuffer(colorMode: .truecolor)
        renderer.draw(pixels: noise, into: &buffer)
        let text = String(decoding: buffer.drain(), as: UTF8.self)
        let images = text.components(separatedBy: "\u{1B}P").dropFirst()
        #expect(images.count == 24)
        #expect(images.allSatisfy { $0.utf8.count < 1 << 20 })
    }
}
