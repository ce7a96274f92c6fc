import Foundation
import Render
import TestSupport
import Testing

/// `vigie wall` in a real sixel terminal: xterm in VT340 mode under Xvfb, looked at
/// through a screenshot (xwd, converted by ImageMagick to raw RGB).
@Suite(.serialized) struct SixelWallTests {
    @Test func xtermShowsTheWallInSixel() throws {
        let vigie = try #require(WallConsoleTests.vigie, "build vigie first")
        let folder = TestPaths.temporaryFolder("sixel-wall")
        let layout = folder.appendingPathComponent("wall.yaml")
        try "wall:\n  name: Mur sixel\n  cameras: \(TestPaths.repository.appendingPathComponent("Layouts/coutances.yaml").path)\n  grid: 2x2\n  dwell: 600\npages:\n  - name: Parvis\n    cameras: [parvis-notre-dame, cathedrale-chevet, hotel-de-ville, rue-daniel]\n"
            .write(to: layout, atomically: true, encoding: .utf8)
        let cache = TestPaths.scratch.appendingPathComponent("wall-cache").path
        let state = folder.appendingPathComponent("state").path
        let prepared = try runProgram(vigie, ["sim", "prepare", "--site", TestPaths.repository.appendingPathComponent("Layouts/coutances.yaml").path, "--stream", "sub", "--cameras", "parvis-notre-dame"], environment: ["VIGIE_CACHE": cache])
        #expect(prepared.status == 0)
        for id in ["cathedrale-chevet", "hotel-de-ville", "rue-daniel"] {
            _ = try runProgram(vigie, ["sim", "prepare", "--site", TestPaths.repository.appendingPathComponent("Layouts/coutances.yaml").path, "--stream", "sub", "--cameras", id], environment: ["VIGIE_CACHE": cache])
        }

        let display = ":\(Int.random(in: 40..<90))"
        let xvfb = try ChildProcess("/usr/bin/Xvfb", [display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"])
        defer {
            xvfb.kill()
            xvfb.wait()
        }
        Thread.sleep(forTimeInterval: 1)
        let xterm = try ChildProcess(
            "/usr/bin/xterm",
            [
                "-ti", "vt340", "-geometry", "100x32+0+0", "-e",
                "/bin/sh", "-c", "VIGIE_CACHE=\(cache) VIGIE_STATE=\(state) VIGIE_STORAGE=\(state)/storage \(vigie) wall --layout \(layout.path)",
            ], environment: ["DISPLAY": display])
        defer {
            xterm.kill()
            xterm.wait()
        }

        // The pictures: a tile's area holds many colours (a street), text holds a few.
        var distinct = 0
        let shown = eventually(timeout: 40, every: 1) {
            let file = folder.appendingPathComponent("screen.rgb").path
            guard let shot = try? runProgram("/bin/sh", ["-c", "DISPLAY=\(display) xwd -root -silent | /usr/bin/convert xwd:- -depth 8 rgb:\(file)"]),
                shot.status == 0, let data = FileManager.default.contents(atPath: file)
            else { return false }
            let image = (width: 1024, height: 768, pixels: [UInt8](data))
            guard image.pixels.count == 1024 * 768 * 3 else { return false }
            var colours = Set<UInt32>()
            // The top-left tile: below its label line, within the first quarter of the window.
            for y in stride(from: 40, to: min(image.height, 220), by: 2) {
                for x in stride(from: 10, to: min(image.width, 280), by: 2) {
                    let offset = (y * image.width + x) * 3
                    guard offset + 2 < image.pixels.count else { continue }
                    colours.insert(UInt32(image.pixels[offset]) << 16 | UInt32(image.pixels[offset + 1]) << 8 | UInt32(image.pixels[offset + 2]))
                }
            }
            // Block cells in xterm can only use its 256-colour palette; sixel pictures are free of it.
            let palette = Set(Palette.xterm256.map { UInt32($0.r) << 16 | UInt32($0.g) << 8 | UInt32($0.b) })
            distinct = colours.subtracting(palette).count
            return distinct > 60
        }
        #expect(shown, "the first tile shows \(distinct) colours outside xterm's palette")
        let events = (try? runProgram(vigie, ["audit", "show", "--storage", state + "/storage"]))?.stdout ?? ""
        #expect(events.contains("console.start"))
    }
}
