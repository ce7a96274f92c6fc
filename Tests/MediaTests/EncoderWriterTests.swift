import Foundation
import Media
import TestSupport
import Testing

@Suite struct EncoderWriterTests {
    /// A moving gradient, so the encoder has work to do.
    func picture(_ frame: Int, width: Int, height: Int) -> YUV420Image {
        var image = YUV420Image(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width { image.luma[y * width + x] = UInt8(truncatingIfNeeded: 16 + (x + y + frame * 3) % 200) }
        }
        return image
    }

    @Test(arguments: ["mkv", "ts", "mp4"])
    func encodesAndWritesAFileFFprobeReads(fileExtension: String) throws {
        let folder = TestPaths.temporaryFolder("encode")
        let path = folder.appendingPathComponent("clip.\(fileExtension)").path
        let encoder = try Encoder(settings: EncoderSettings(width: 160, height: 96, framesPerSecond: 25, keyframeInterval: 10, bitRate: 300_000))
        #expect(encoder.codecName == "libx264")
        let writer = try StreamCopyWriter(path: path, streams: [(encoder.parameters, encoder.timeBase)])
        var keyframes = 0
        for frame in 0..<30 {
            for packet in try encoder.encode(picture(frame, width: 160, height: 96), frameNumber: Int64(frame)) {
                if packet.isKeyframe { keyframes += 1 }
                try writer.write(packet)
            }
        }
        for packet in try encoder.flush() { try writer.write(packet) }
        try writer.close()
        #expect(keyframes == 3)
        #expect(writer.packetCount == 30)
        let fields = try FFprobe.videoStream(path, countFrames: true)
        #expect(fields["codec_name"] == "h264")
        #expect(fields["width"] == "160" && fields["height"] == "96")
        #expect(fields["nb_read_frames"] == "30")
    }

    @Test func streamCopyRemuxesWithoutReencoding() throws {
        let clip = try Clips.make("testsrc2-320x240-2s")
        let folder = TestPaths.temporaryFolder("remux")
        let output = folder.appendingPathComponent("copy.ts").path
        let source = try DemuxerSource(url: clip.path)
        let writer = try StreamCopyWriter(path: output, streams: [(source.video.parameters, source.video.timeBase)])
        var bytes = 0
        while let packet = try source.read() {
            bytes += packet.size
            try writer.write(packet)
            // The packet given to the writer is left as it was, for other consumers.
            #expect(packet.timeBase == source.video.timeBase)
        }
        try writer.close()
        #expect(writer.payloadBytes == bytes)
        let fields = try FFprobe.videoStream(output, countFrames: true)
        #expect(fields["codec_name"] == "h264")
        #expect(fields["nb_read_frames"] == "50")
        #expect(fields["format_name"] == "mpegts")
        let duration = Double(fields["duration"] ?? "") ?? 0
        #expect(abs(duration - 2) < 0.1, "duration \(duration)")
    }

    @Test func rejectsOddSizes() {
        #expect(throws: MediaError.self) {
            _ = try Encoder(settings: EncoderSettings(width: 161, height: 96, framesPerSecond: 25, keyframeInterval: 10, bitRate: 1))
        }
    }
}
