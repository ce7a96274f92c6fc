import Foundation
import Media
import TestSupport
import Testing

@Suite struct DemuxerDecoderTests {
    /// Most real cameras send 704x576 or 720x576 with non-square samples: the shape shown is
    /// the display aspect (4:3), not the pixel count's.
    @Test func theDisplayAspectCountsTheSampleAspectRatio() throws {
        let url = TestPaths.scratch.appendingPathComponent("pal-704x576-sar12-11.mkv")
        if !FileManager.default.fileExists(atPath: url.path) {
            let made = try runProgram(
                "/usr/bin/ffmpeg",
                ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=704x576:rate=25", "-vf", "setsar=12/11", "-t", "1",
                 "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", url.path])
            #expect(made.status == 0, "\(made.stderr)")
        }
        let pal = try #require(try Demuxer(url: url.path).videoStream)
        #expect(abs((pal.parameters.displayAspect ?? 0) - 4.0 / 3.0) < 0.001, "\(String(describing: pal.parameters.displayAspect))")
        let square = try #require(try Demuxer(url: try Clips.make("aspect-square", size: "320x240").path).videoStream)
        #expect(square.parameters.displayAspect == 320.0 / 240.0)
    }

    @Test func readsStreamInformationAndEveryPacket() throws {
        let clip = try Clips.make("testsrc2-320x240-2s")
        let demuxer = try Demuxer(url: clip.path)
        let video = try #require(demuxer.videoStream)
        #expect(video.parameters.codecName == "h264")
        #expect(video.parameters.width == 320 && video.parameters.height == 240)
        #expect(abs((video.framesPerSecond ?? 0) - 25) < 0.01)
        var packets = 0, keyframes = 0
        while let packet = try demuxer.read() {
            packets += 1
            if packet.isKeyframe { keyframes += 1 }
        }
        #expect(packets == 50)
        #expect(keyframes == 2)
        // End of stream is an outcome, and stays one.
        #expect(try demuxer.read() == nil)
    }

    @Test func decodesAndScalesEveryFrame() throws {
        let clip = try Clips.make("testsrc2-320x240-2s")
        let scaler = try Scaler(outputWidth: 80, outputHeight: 60)
        var last: RGBImage?
        let frames = try decodeEveryFrame(try DemuxerSource(url: clip.path)) { frame, _ in
            #expect(frame.width == 320 && frame.height == 240)
            last = try scaler.scale(frame)
        }
        #expect(frames == 50)
        let image = try #require(last)
        #expect(image.width == 80 && image.height == 60 && image.pixels.count == 80 * 60 * 3)
        // testsrc2 is colourful: the picture is not flat.
        let values = Set(stride(from: 0, to: image.pixels.count, by: 97).map { image.pixels[$0] })
        #expect(values.count > 20)
    }

    @Test func scaledColoursMatchTheSource() throws {
        let clip = try Clips.make("red-160x120", source: "color=c=0xC81E28", size: "160x120", seconds: 1)
        let source = try DemuxerSource(url: clip.path)
        let decoder = try Decoder(parameters: source.video.parameters, timeBase: source.video.timeBase)
        let scaler = try Scaler(outputWidth: 16, outputHeight: 12)
        var image: RGBImage?
        while image == nil, let packet = try source.read() {
            try decoder.send(packet)
            if let frame = try decoder.receive() { image = try scaler.scale(frame) }
        }
        let mean = try #require(image).meanColor(x: 0, y: 0, width: 16, height: 12)
        #expect(abs(mean.r - 200) < 8 && abs(mean.g - 30) < 8 && abs(mean.b - 40) < 8, "mean \(mean)")
    }

    @Test func keyframeOnlyModeSkipsTheRest() throws {
        let clip = try Clips.make("testsrc2-320x240-2s")
        let frames = try decodeEveryFrame(try DemuxerSource(url: clip.path), keyframesOnly: true) { frame, _ in
            #expect(frame.isKeyframe)
        }
        #expect(frames == 2)
    }

    @Test func missingFileIsAClearError() {
        do {
            _ = try Demuxer(url: "/nonexistent/clip.mkv")
            Issue.record("opening a missing file succeeded")
        } catch {
            #expect(error.kind == .ffmpeg)
            #expect(error.code == FFmpegCode.posix(ENOENT))
            #expect(error.message.contains("No such file"))
        }
    }

    @Test func refusedConnectionKeepsCredentialsOut() throws {
        let server = try SilentServer()
        let port = server.port + 1 == 65536 ? 1 : server.port + 1  // a port nobody listens on, most likely
        do {
            _ = try Demuxer(url: "rtsp://admin:hunter2@127.0.0.1:\(port)/x", options: DemuxerOptions(connectTimeout: .seconds(3)))
            Issue.record("connection succeeded")
        } catch {
            #expect(!error.description.contains("hunter2"))
            #expect(error.description.contains("***@127.0.0.1"))
        }
    }

    @Test func aCameraThatNeverAnswersTimesOut() throws {
        let server = try SilentServer()
        let start = Date()
        do {
            _ = try Demuxer(url: "rtsp://127.0.0.1:\(server.port)/cam", options: DemuxerOptions(connectTimeout: .milliseconds(800)))
            Issue.record("open succeeded against a silent server")
        } catch {
            #expect(error.kind == .timedOut)
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func cancellingStopsABlockedOpenPromptly() throws {
        let server = try SilentServer()
        let interrupt = InterruptFlag()
        let port = server.port
        let outcome = Outcome()
        let thread = Thread {
            do {
                _ = try Demuxer(url: "rtsp://127.0.0.1:\(port)/cam", options: DemuxerOptions(connectTimeout: .seconds(60)), interrupt: interrupt)
                outcome.set("opened")
            } catch let error as MediaError {
                outcome.set(error.kind == .cancelled ? "cancelled" : "\(error.kind)")
            } catch {
                outcome.set("\(error)")
            }
        }
        thread.start()
        Thread.sleep(forTimeInterval: 0.3)
        let cancelledAt = Date()
        interrupt.cancel()
        #expect(eventually(timeout: 5) { outcome.value != nil })
        #expect(outcome.value == "cancelled")
        #expect(Date().timeIntervalSince(cancelledAt) < 2)
    }
}

final class Outcome: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var stored: String?
    func set(_ value: String) { lock.lock(); stored = value; lock.unlock() }
    var value: String? { lock.lock(); defer { lock.unlock() }; return stored }
}
