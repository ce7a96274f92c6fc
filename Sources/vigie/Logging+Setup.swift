import Foundation
import Logging
import Media
import RecorderCore
import Synchronization

/// Sets up swift-log once: to standard error, or into memory for full-screen views.
enum LogSetup {
    static let recent = RecentLog(capacity: 6)

    static func toStandardError(level: Logger.Level) {
        let sink = LogFile(handle: FileHandle.standardError, seek: false)
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, write: sink.write)
            handler.logLevel = level
            return handler
        }
        FFmpegLog.install(level: level)
    }

    /// Into a file: for full-screen programs whose screen must stay clean.
    static func toFile(path: String, level: Logger.Level) {
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let sink = LogFile(handle: FileHandle(forWritingAtPath: path))
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, write: sink.write)
            handler.logLevel = level
            return handler
        }
        FFmpegLog.install(level: level)
    }

    static func toMemory(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, write: recent.append)
            handler.logLevel = level
            return handler
        }
        FFmpegLog.install(level: level)
    }
}

/// The last few log lines, for views that own the screen.
final class RecentLog: Sendable {
    private let lines: Mutex<[String]>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        lines = Mutex([])
    }

    func append(_ line: String) {
        lines.withLock { lines in
            lines.append(line)
            if lines.count > capacity { lines.removeFirst(lines.count - capacity) }
        }
    }

    var snapshot: [String] { lines.withLock { $0 } }
}

/// A swift-log handler that hands each line to a sink (standard error, a file, the
/// recent-lines memory). What a camera's server answered ends up in messages: control
/// characters are escaped, so a log read in a terminal cannot be made to rewrite itself.
struct LineLogHandler: LogHandler {
    let label: String
    let write: @Sendable (String) -> Void
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let time = Date().formatted(.iso8601)
        write("\(time) \(event.level) \(label): \(TerminalText.escaped("\(event.message)"))")
    }
}

/// An append-only log file shared by every logger.
final class LogFile: @unchecked Sendable {  // writes serialized by `lock`
    private let lock = NSLock()
    private let handle: FileHandle?

    init(handle: FileHandle?, seek: Bool = true) {
        self.handle = handle
        if seek { _ = try? handle?.seekToEnd() }
    }

    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        handle?.write(Data((line + "\n").utf8))
    }
}
