public import Foundation

/// A camera's timeline around a time: what is recorded, and what is held.
public struct RecordedSpans: Sendable {
    public var camera: String
    public var from: Date
    public var to: Date
    public var recorded: [(Date, Date)]
    public var held: [(Date, Date)]

    public init(camera: String, from: Date, to: Date, recorded: [(Date, Date)], held: [(Date, Date)]) {
        self.camera = camera
        self.from = from
        self.to = to
        self.recorded = recorded
        self.held = held
    }
}

/// The recordings as a console sees them: the site's own storage (the embedded core) or
/// the recorder over the network. The console calls these from a background thread, never
/// from the one that draws.
public protocol ConsoleRecordings: Sendable {
    /// A camera's recorded packets, for a player (`reason` goes to the audit log).
    func packets(camera: String, reason: String?) -> any RecordedPackets
    /// Whether the console writes the playback's audit entries itself (false: the recorder does).
    var consoleAuditsPlayback: Bool { get }
    /// The recorded and held spans of a camera between two times.
    func spans(camera: String, from: Date, to: Date) throws -> RecordedSpans
    /// Of `cameras`, those with footage written after `since`.
    func recording(_ cameras: [String], since: Date) throws -> Set<String>
}

/// The recordings in this machine's storage, read directly.
public struct LocalRecordings: ConsoleRecordings {
    public let store: RecordingStore

    public init(store: RecordingStore) { self.store = store }

    public func packets(camera: String, reason: String?) -> any RecordedPackets { SegmentPackets(store: store, camera: camera) }
    public var consoleAuditsPlayback: Bool { true }

    public func spans(camera: String, from: Date, to: Date) throws -> RecordedSpans {
        let segments = try store.catalog.segments(camera: camera, from: from, to: to)
        let holds = try store.catalog.holds(includeReleased: false).filter { $0.cameras.isEmpty || $0.cameras.contains(camera) }
        return RecordedSpans(camera: camera, from: from, to: to, recorded: segments.map { ($0.start, $0.end) }, held: holds.map { ($0.start, $0.end) })
    }

    public func recording(_ cameras: [String], since: Date) throws -> Set<String> {
        var marks: Set<String> = []
        for camera in cameras {
            if let last = try store.catalog.segment(camera: camera, before: .distantFuture), last.end > since { marks.insert(camera) }
        }
        return marks
    }
}
