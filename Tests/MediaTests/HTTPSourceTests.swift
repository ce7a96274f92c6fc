import Foundation
import Media
import TestSupport
import Testing

/// HTTP sources as cameras and video servers offer them: HLS playlists and MJPEG
/// (multipart JPEG) streams, served by a real HTTP server on loopback.
@Suite(.serialized) struct HTTPSourceTests {
    /// Python's http.server on a folder, on a port the kernel picks (it prints it), stopped
    /// when the test ends. `.mjpg` files go out as
    /// `multipart/x-mixed-replace`, as MJPEG cameras send them.
    static let serverScript = """
        import functools, http.server, sys
        class Handler(http.server.SimpleHTTPRequestHandler):
            extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                              ".mjpg": "multipart/x-mixed-replace;boundary=ffmpeg"}
            def log_message(self, *args): pass
        handler = functools.partial(Handler, directory=sys.argv[1])
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    final class HTTPServer {
        let process: ChildProcess
        let port: Int

        init(folder: URL) throws {
            let scratch = TestPaths.temporaryFolder("http-server")
            let out = scratch.appendingPathComponent("port.txt").path
            let log = scratch.appendingPathComponent("server.log").path
            process = try ChildProcess("/usr/bin/python3", ["-c", HTTPSourceTests.serverScript, folder.path], stdout: out, stderr: log)
            var port: Int? = nil
            let listening = eventually(timeout: 30) {
                port = (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").first.flatMap { Int($0) }
                return port.map(HTTPServer.accepts(port:)) == true
            }
            guard listening, let port else { throw FixtureError("http.server did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")") }
            self.port = port
        }

        static func accepts(port: Int) -> Bool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
        }

        deinit {
            process.kill()
            process.wait()
        }
    }

    func makeStreams() throws -> URL {
        let folder = TestPaths.scratch.appendingPathComponent("http-streams")
        let playlist = folder.appendingPathComponent("index.m3u8")
        let mjpeg = folder.appendingPathComponent("camera.mjpg")
        if FileManager.default.fileExists(atPath: playlist.path) && FileManager.default.fileExists(atPath: mjpeg.path) { return folder }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lavfi = ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "4"]
        var result = try runProgram(
            "/usr/bin/ffmpeg", lavfi + ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-f", "hls", "-hls_time", "1", "-hls_list_size", "0", playlist.path])
        guard result.status == 0 else { throw FixtureError(result.stderr) }
        result = try runProgram("/usr/bin/ffmpeg", lavfi + ["-c:v", "mjpeg", "-q:v", "5", "-f", "mpjpeg", mjpeg.path])
        guard result.status == 0 else { throw FixtureError(result.stderr) }
        return folder
    }

    @Test(arguments: [("index.m3u8", "h264", "hls"), ("camera.mjpg", "mjpeg", "mpjpeg")])
    func readsAndDecodesOverHTTP(path: String, codec: String, format: String) throws {
        let server = try HTTPServer(folder: try makeStreams())
        let source = try DemuxerSource(url: "http://127.0.0.1:\(server.port)/\(path)")
        #expect(source.video.parameters.codecName == codec)
        #expect(source.demuxer.formatName == format)
        #expect(source.transport == "http")
        let frames = try decodeEveryFrame(source) { frame, _ in
            #expect(frame.width == 320 && frame.height == 240)
        }
        #expect(frames == 100)
    }
}
