public import Foundation

/// A real small file system for one test: a tmpfs of `megabytes` mounted on a folder of its
/// own (tests run as root on the CI machines, as on these), unmounted when released. Fills
/// up for real, and can be made read-only like an evidence copy on write-protected media.
public final class TemporaryFileSystem: @unchecked Sendable {  // used by one test at a time
    public let mountPoint: URL
    private var mounted = false

    public init(megabytes: Int, name: String = "tmpfs") throws {
        mountPoint = TestPaths.temporaryFolder(name)
        let result = try runProgram("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", mountPoint.path])
        guard result.status == 0 else { throw FixtureError("cannot mount a tmpfs on \(mountPoint.path) (tests need root): \(result.stderr)") }
        mounted = true
    }

    /// Bytes free for unprivileged writers.
    public var freeBytes: Int64 {
        var stats = statvfs()
        guard statvfs(mountPoint.path, &stats) == 0 else { return 0 }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    /// Writes a filler file until the file system refuses more: the disk is then full.
    @discardableResult
    public func fill(name: String = "filler") -> URL {
        let url = mountPoint.appendingPathComponent(name)
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        defer { close(descriptor) }
        let block = [UInt8](repeating: 0x55, count: 64 << 10)
        var size = block.count
        while size >= 512 {
            let written = block.withUnsafeBytes { write(descriptor, $0.baseAddress, size) }
            if written < 0 { size /= 2 }
        }
        fsync(descriptor)
        return url
    }

    /// Makes the whole file system read-only (`mount -o remount,ro`), or writable again.
    public func setReadOnly(_ readOnly: Bool) throws {
        let result = try runProgram("/bin/mount", ["-o", "remount,\(readOnly ? "ro" : "rw")", mountPoint.path])
        guard result.status == 0 else { throw FixtureError("cannot remount \(mountPoint.path): \(result.stderr)") }
    }

    public func unmount() {
        guard mounted else { return }
        mounted = false
        _ = try? runProgram("/bin/umount", ["-l", mountPoint.path])
    }

    deinit { unmount() }
}

/// The hostile RTSP server of `scripts/hostile-rtsp` on loopback, in one of its modes.
public final class HostileRTSPServer: @unchecked Sendable {  // the child is only killed in deinit
    public let url: String
    private let child: ChildProcess
    public let log: String

    public init(_ arguments: [String]) throws {
        let folder = TestPaths.temporaryFolder("hostile")
        let out = folder.appendingPathComponent("ready.txt").path
        log = folder.appendingPathComponent("server.log").path
        child = try ChildProcess(
            TestPaths.repository.appendingPathComponent("scripts/hostile-rtsp").path, ["--port", "0"] + arguments, stdout: out, stderr: log)
        var ready: String? = nil
        _ = eventually(timeout: 10) {
            ready = (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").first.map(String.init)
            return ready?.hasPrefix("ready ") == true
        }
        guard let ready, ready.hasPrefix("ready ") else { throw FixtureError("hostile-rtsp did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")") }
        url = String(ready.dropFirst("ready ".count))
    }

    /// The URL with user information put in (`rtsp://USER:PASSWORD@127.0.0.1:PORT/stream`).
    public func url(user: String, password: String, query: String = "") -> String {
        url.replacingOccurrences(of: "rtsp://", with: "rtsp://\(user):\(password)@") + query
    }

    deinit {
        child.kill(SIGTERM)
        _ = child.wait()
    }
}

extension RTSPFixture {
    /// The pid of camera `index`'s server process (to freeze it with SIGSTOP, as a camera hangs).
    public func pid(_ index: Int) throws -> pid_t {
        let data = try Data(contentsOf: folder.appendingPathComponent("fixture.json"))
        guard let state = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let cameras = state["cameras"] as? [[String: Any]], index < cameras.count, let pid = cameras[index]["pid"] as? Int
        else { throw FixtureError("no pid for camera \(index) in the fixture's state") }
        return pid_t(pid)
    }
}
