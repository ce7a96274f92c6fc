import Foundation
public import RecorderCore

/// Operator events appended to a JSON-lines file, one event a line. The interim sink
/// until the recorder core keeps the chained audit log (its `AuditSink` replaces this).
public final class EventFile: AuditSink, @unchecked Sendable {  // writes serialized by `lock`
    private let lock = NSLock()
    private let handle: FileHandle?
    public let path: String

    public init(path: String) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        handle = FileHandle(forWritingAtPath: path)
        _ = try? handle?.seekToEnd()
    }

    /// $VIGIE_STATE/events.jsonl, else ~/.local/state/vigie/events.jsonl.
    public static func defaultPath() -> String {
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["VIGIE_STATE"], !state.isEmpty { return state + "/events.jsonl" }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/state/vigie/events.jsonl").path
    }

    public func record(_ event: OperatorEvent) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var fields: [String: String] = ["who": event.who, "when": formatter.string(from: event.when), "action": event.action.name]
        if let camera = event.cameraID { fields["camera"] = camera }
        if let detail = event.detail { fields["detail"] = detail }
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        lock.lock()
        defer { lock.unlock() }
        handle?.write(data + Data("\n".utf8))
    }
}
