public import Foundation

/// The real RTSP server of `scripts/rtsp-fixture` (GStreamer's, one process per camera
/// on loopback), started for a test and stopped after it.
public final class RTSPFixture: @unchecked Sendable {  // used by one test at a time (suites are serialized)
    public let folder: URL
    public let urls: [String]
    public let basePort: Int
    private static let script = TestPaths.repository.appendingPathComponent("scripts/rtsp-fixture").path

    /// Starts `cameras` cameras; ports from `basePort`.
    public init(cameras: Int, basePort: Int, size: String = "320x240") throws {
        folder = TestPaths.temporaryFolder("rtsp")
        self.basePort = basePort
        let result = try runProgram(
            RTSPFixture.script, ["start", "--dir", folder.path, "--cameras", "\(cameras)", "--base-port", "\(basePort)", "--size", size])
        guard result.status == 0 else { throw FixtureError("rtsp-fixture start failed: \(result.stderr)") }
        urls = result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("rtsp://") }
    }

    /// Kills camera `index`'s server, as if it lost power.
    public func stop(_ index: Int) throws {
        let result = try runProgram(RTSPFixture.script, ["stop", "--dir", folder.path, "\(index)"])
        guard result.status == 0 else { throw FixtureError("rtsp-fixture stop failed: \(result.stderr)") }
    }

    /// Starts camera `index` again on its port.
    public func restart(_ index: Int) throws {
        let result = try runProgram(RTSPFixture.script, ["restart", "--dir", folder.path, "\(index)"])
        guard result.status == 0 else { throw FixtureError("rtsp-fixture restart failed: \(result.stderr)") }
    }

    /// A base port unlikely to be taken by another test running at the same time.
    public static func randomBasePort() -> Int { 20_000 + Int.random(in: 0..<900) * 10 }

    public func stopAll() {
        _ = try? runProgram(RTSPFixture.script, ["stop-all", "--dir", folder.path])
    }

    deinit { stopAll() }
}

/// A TCP server on loopback that accepts connections and never answers: what a hung
/// camera looks like. For timeout and cancellation tests.
public final class SilentServer: @unchecked Sendable {  // the socket is only closed in deinit
    public let port: Int
    private let socketFD: Int32

    public init() throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.socketFD = socketFD
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) }
        }
        guard bound == 0, listen(socketFD, 16) == 0 else {
            close(socketFD)
            throw FixtureError("cannot listen on loopback")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(socketFD) }
}
