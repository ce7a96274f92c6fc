import Foundation
import Media
import RecorderCore
import TestSupport
import Testing

/// Playback on segments whose every frame says its own number (three grey blocks: the
/// number's hundreds, tens and units), written like the recorder writes them.
@Suite struct PlaybackTests {
    static let fps = 25

    /// Frame `n`: three blocks of grey 20 + 20 × digit (hundreds, tens, units).
    static func picture(_ n: Int) -> YUV420Image {
        var image = YUV420Image(width: 96, height: 32)
        let digits = [n / 100 % 10, n / 10 % 10, n % 10]
        for y in 0..<32 {
            for x in 0..<96 { image.luma[y * 96 + x] = UInt8(20 + 20 * digits[x / 32]) }
        }
        return image
    }

    static func number(_ image: RGBImage) -> Int {
        func digit(_ x: Int) -> Int {
            let value = image.meanColor(x: x, y: image.height / 4, width: image.width / 6, height: image.height / 2).g
            // RGB of limited-range grey: (Y - 16) × 255 / 219.
            let luma = value * 219 / 255 + 16
            return Int(((luma - 20) / 20).rounded())
        }
        return digit(image.width / 12) * 100 + digit(image.width * 5 / 12) * 10 + digit(image.width * 9 / 12)
    }

    /// Writes `count` frames numbered from `first` as one MPEG-TS segment; returns its keyframe index.
    static func writeSegment(_ url: URL, first: Int, count: Int) throws -> [KeyframeMark] {
        var settings = EncoderSettings(width: 96, height: 32, framesPerSecond: fps, keyframeInterval: 25, bitRate: 400_000)
        settings.preset = "ultrafast"
        let encoder = try Encoder(settings: settings)
        let writer = try StreamCopyWriter(path: url.path, formatName: "mpegts", streams: [(encoder.parameters, encoder.timeBase)])
        var marks: [KeyframeMark] = []
        func write(_ packets: [Packet]) throws {
            for packet in packets {
                if packet.isKeyframe, let pts = packet.pts {
                    marks.append(KeyframeMark(offset: packet.timeBase.seconds(pts) - Double(first) / Double(fps), byte: writer.position))
                }
                try writer.write(packet)
            }
        }
        for n in first..<(first + count) { try write(try encoder.encode(picture(n), frameNumber: Int64(n))) }
        try write(try encoder.flush())
        try writer.close()
        return marks
    }

    @Test func seeksToTheExactFrameAndPlaysAcrossASegmentBoundaryAndTheAutumnClockChange() throws {
        let folder = TestPaths.temporaryFolder("playback")
        let store = try RecordingStore(root: folder)
        let paris = TimeZone(identifier: "Europe/Paris")!
        // Clocks go back at 01:00 UTC on 25 October 2026 (03:00 CEST becomes 02:00 CET).
        let change = Date(timeIntervalSince1970: 1_792_890_000)
        #expect(LocalTime.format(change.addingTimeInterval(-1), timeZone: paris, offset: true) == "2026-10-25 02:59:59 +02:00")
        // Two 4 s segments, frames 0-99 from 00:59:58 UTC, 100-199 from 01:00:02 UTC.
        for (index, first) in [0, 100].enumerated() {
            let path = "cam/2026-10-25/\(index).ts"
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("cam/2026-10-25"), withIntermediateDirectories: true)
            let marks = try PlaybackTests.writeSegment(folder.appendingPathComponent(path), first: first, count: 100)
            let start = change.addingTimeInterval(-2 + Double(first) / Double(PlaybackTests.fps))
            let url = folder.appendingPathComponent(path)
            let digest = try #require(RecordingStore.digest(of: url))
            _ = try store.catalog.insertSegment(
                SegmentRecord(camera: "cam", path: path, start: start, end: start.addingTimeInterval(4), bytes: digest.bytes,
                              sha256: digest.sha256, keyframes: marks, state: .closed))
        }
        #expect(try Recorder.verify(store: store, camera: "cam").problems.isEmpty)
        let reader = try PlaybackReader(store: store, camera: "cam", width: 96, height: 32)

        // 02:59:59.48 summer time is 1.48 s into the first segment: frame 37 (keyframe 25, decoded forward).
        let summer = try #require(try reader.seek(to: try LocalTime.parse("2026-10-25 02:59:59.48 +02:00", timeZone: paris)))
        #expect(PlaybackTests.number(summer.image) == 37)
        #expect(summer.time == change.addingTimeInterval(-0.52))
        // The same wall-clock hour an hour later, winter time: frame 150 of the second segment.
        let winter = try #require(try reader.seek(to: try LocalTime.parse("2026-10-25 02:00:04 +01:00", timeZone: paris)))
        #expect(PlaybackTests.number(winter.image) == 150)
        #expect(LocalTime.format(winter.time, timeZone: paris, offset: true) == "2026-10-25 02:00:04 +01:00")

        // Across the boundary: 98, 99, then 100 from the next segment, with times 40 ms apart.
        var frame = try #require(try reader.seek(to: change.addingTimeInterval(1.92)))
        var numbers: [Int] = [], times: [Date] = []
        for _ in 0..<5 {
            numbers.append(PlaybackTests.number(frame.image))
            times.append(frame.time)
            frame = try #require(try reader.next())
        }
        #expect(numbers == [98, 99, 100, 101, 102])
        for (a, b) in zip(times, times.dropFirst()) { #expect(abs(b.timeIntervalSince(a) - 0.04) < 0.001) }
        // Past the last frame: nothing more; in a gap before the footage: its first frame.
        _ = try reader.seek(to: change.addingTimeInterval(5.96))
        #expect(try reader.next() == nil)
        #expect(try reader.seek(to: change.addingTimeInterval(-3600)).map { PlaybackTests.number($0.image) } == 0)
    }
}
