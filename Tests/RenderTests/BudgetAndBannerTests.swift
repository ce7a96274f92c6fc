import Render
import Testing

@Suite struct OutputBudgetTests {
    @Test func averageOutputStaysUnderTheCap() {
        // 25 frames a second for 20 s, 6 kB each (150 kB/s wanted), capped at 40 kB/s.
        var budget = OutputBudget(bytesPerSecond: 40_000)
        var sent = 0, drawn = 0
        for frame in 0..<500 {
            let now = Double(frame) / 25
            guard budget.allows(now: now) else { continue }
            let cost = frame == 0 ? 90_000 : 6_000  // the first frame is the whole picture
            budget.spend(cost, now: now)
            sent += cost
            drawn += 1
        }
        // Never more than the rate over the run plus one burst and one frame.
        #expect(Double(sent) <= 40_000 * 20 + budget.burst + 90_000)
        #expect(Double(sent) >= 40_000 * 20 * 0.9)
        #expect(drawn + budget.skipped == 500)
        #expect(drawn < 500 && drawn > 100)
    }

    @Test func aQuietLinkDrawsEveryFrame() {
        var budget = OutputBudget(bytesPerSecond: 1_000_000)
        for frame in 0..<100 {
            let now = Double(frame) / 25
            let allowed = budget.allows(now: now)
            #expect(allowed)
            budget.spend(2_000, now: now)
        }
        #expect(budget.skipped == 0)
    }

    @Test func ratesAreReadWithUnits() {
        #expect(OutputBudget.parseRate("50000") == 50_000)
        #expect(OutputBudget.parseRate("64k") == 64_000)
        #expect(OutputBudget.parseRate("1.5M") == 1_500_000)
        #expect(OutputBudget.parseRate("0") == nil)
        #expect(OutputBudget.parseRate("fast") == nil)
        #expect(OutputBudget.parseRate("-3k") == nil)
    }
}

@Suite struct BannerTests {
    @Test func aBannerDarkensTheLastPictureAndTheNextPictureCoversIt() {
        let renderer = CellRenderer(columns: 30, rows: 6, originRow: 2, originColumn: 4, blitter: .half, colorMode: .truecolor)
        renderer.refreshEvery = 0
        let picture = [UInt8](repeating: 210, count: renderer.pixelWidth * renderer.pixelHeight * 3)
        var buffer = VTBuffer(colorMode: .truecolor)
        renderer.draw(pixels: picture, into: &buffer)
        _ = buffer.drain()

        renderer.drawBanner("NO SIGNAL since 12:00:00", over: picture, into: &buffer)
        let text = String(decoding: buffer.drain(), as: UTF8.self)
        // The whole tile again, darkened to a third (70), then the text on the middle row (1-based row 6).
        #expect(text.contains("48;2;70;70;70m"))
        #expect(text.contains("\u{1B}[6;7H\u{1B}[1m"))
        #expect(text.contains(" NO SIGNAL since 12:00:00 "))
        #expect(text.hasSuffix("\u{1B}[0m"))
        // The same live picture afterwards is sent whole: it covers the banner.
        #expect(renderer.draw(pixels: picture, into: &buffer) == 30 * 6)
    }

    @Test func aNarrowTileCutsTheTextNotTheScreen() {
        let renderer = CellRenderer(columns: 8, rows: 2, blitter: .half, colorMode: .truecolor)
        var buffer = VTBuffer(colorMode: .truecolor)
        renderer.drawBanner("CONNECTING", over: nil, into: &buffer)
        let text = String(decoding: buffer.drain(), as: UTF8.self)
        #expect(text.contains(" CONNEC "))
        #expect(!text.contains("CONNECT "))
    }
}
