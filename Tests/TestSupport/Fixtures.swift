public import Foundation
public import Media

/// Where the repository and the test scratch space are.
public enum TestPaths {
    /// The repository's root folder (found from this file's path).
    public static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// A scratch folder kept between runs (clips and simulated footage are reused).
    public static let scratch: URL = {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("vigie-tests")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// The built `vigie` program (debug, else release), nil when it was not built.
    public static let vigie: String? = {
        for configuration in ["debug", "release"] {
            let path = repository.appendingPathComponent(".build/\(configuration)/vigie").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }()

    /// A new empty folder for one test.
    public static func temporaryFolder(_ name: String) -> URL {
        let url = scratch.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Runs a program and returns its exit status and output. Output goes through files, not
/// pipes: a daemon the program starts (tmux's server, an RTSP server) may keep the
/// descriptors it inherited, and a pipe would then never reach its end.
@discardableResult
public func runProgram(
    _ path: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil
) throws -> (status: Int32, stdout: String, stderr: String) {
    let folder = FileManager.default.temporaryDirectory.path
    let outPath = "\(folder)/vigie-run-\(UUID().uuidString).out", errPath = "\(folder)/vigie-run-\(UUID().uuidString).err"
    let inPath = "\(folder)/vigie-run-\(UUID().uuidString).in"
    defer {
        unlink(outPath)
        unlink(errPath)
        unlink(inPath)
    }
    if let input { try input.write(toFile: inPath, atomically: false, encoding: .utf8) }
    let child = try ChildProcess(path, arguments, environment: environment, stdin: input == nil ? nil : inPath, stdout: outPath, stderr: errPath)
    let status = child.wait()
    let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return (status, stdout, stderr)
}

/// Test clips made with FFmpeg's command-line tools (never committed), cached by name.
public enum Clips {
    /// A clip of FFmpeg's `testsrc2` (or any lavfi source) encoded with libx264.
    public static func make(
        _ name: String, source: String = "testsrc2", size: String = "320x240", seconds: Int = 2, fps: Int = 25, gop: Int = 25,
        extension fileExtension: String = "mkv"
    ) throws -> URL {
        let url = TestPaths.scratch.appendingPathComponent("\(name).\(fileExtension)")
        if FileManager.default.fileExists(atPath: url.path) { return url }
        let partial = TestPaths.scratch.appendingPathComponent("\(name).partial.\(fileExtension)")
        let result = try runProgram(
            "/usr/bin/ffmpeg",
            [
                "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "\(source)\(source.contains("=") ? ":" : "=")size=\(size):rate=\(fps)", "-t", "\(seconds)",
                "-c:v", "libx264", "-preset", "ultrafast", "-g", "\(gop)", "-keyint_min", "\(gop)", "-sc_threshold", "0",
                "-bf", "0", "-pix_fmt", "yuv420p", partial.path,
            ])
        guard result.status == 0 else { throw FixtureError("ffmpeg failed: \(result.stderr)") }
        try FileManager.default.moveItem(at: partial, to: url)
        return url
    }
}

/// `ffprobe` answers, for checking what Vigie wrote with an independent reader.
public enum FFprobe {
    /// Stream fields of the first video stream (codec_name, width, height, nb_read_frames...).
    public static func videoStream(_ path: String, countFrames: Bool = false) throws -> [String: String] {
        var arguments = ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height,nb_read_frames,r_frame_rate:format=format_name,duration", "-of", "default=noprint_wrappers=1"]
        if countFrames { arguments.insert("-count_frames", at: 0) }
        let result = try runProgram("/usr/bin/ffprobe", arguments + [path])
        guard result.status == 0 else { throw FixtureError("ffprobe failed on \(path): \(result.stderr)") }
        var fields: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        return fields
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` seconds pass; returns whether it held.
public func eventually(timeout: Double, every interval: Double = 0.05, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: interval)
    }
    return condition()
}

/// Decodes every picture of a source, draining the decoder at the end; `body` gets each
/// frame with its index. Returns how many frames came out.
@discardableResult
public func decodeEveryFrame(
    _ source: any PacketSource, keyframesOnly: Bool = false, _ body: (Frame, Int) throws -> Void = { _, _ in }
) throws -> Int {
    let decoder = try Decoder(parameters: source.video.parameters, timeBase: source.video.timeBase, keyframesOnly: keyframesOnly)
    var index = 0
    func drain() throws {
        while let frame = try decoder.receive() {
            try body(frame, index)
            index += 1
        }
    }
    while let packet = try source.read() {
        try decoder.send(packet)
        try drain()
    }
    try decoder.send(nil)
    try drain()
    return index
}
