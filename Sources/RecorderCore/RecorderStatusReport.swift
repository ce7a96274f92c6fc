public import Foundation
import Metrics

/// What the running recorder says of itself every 2 s, in `STORAGE/recorder.status` (JSON,
/// rewritten in place so a full disk does not stop it): the storage, the catalog, and each
/// camera. `vigie recorder status` reads it; so can a supervision script.
public struct RecorderStatusReport: Codable, Sendable {
    public struct Storage: Codable, Sendable {
        public var diskBytes: Int64
        public var freeBytes: Int64
        public var floorBytes: Int64
        public var writeBytesPerSecond: Double
        public var pausedSince: Date?
        public var catalogReserveBytes: Int64
        public var lastBackup: Date?
        public var backupProblem: String?
        /// The catalog rebuild at start, when there was one.
        public var rebuilt: String?
        /// "1234/158400 indexed, 56 hashed" while a rebuilt catalog is indexed.
        public var indexing: String?
        public var quarantinedFiles: Int
        public var destroyedForSpace: Int
    }

    public struct Camera: Codable, Sendable {
        public var id: String
        /// live, connecting or lost.
        public var feed: String
        public var recording: Bool
        public var bitsPerSecond: Double
        public var segment: String?
        public var packetsDropped: Int
        public var retentionNotMetSince: Date?
        /// Why it is not recorded now.
        public var interruption: String?
        public var lastError: String?
        /// Its sub stream, when the recorder records it too.
        public var sub: SubStream?
    }

    /// A camera's sub stream recorded beside its main one.
    public struct SubStream: Codable, Sendable {
        public var feed: String
        public var recording: Bool
        public var bitsPerSecond: Double
        public var segment: String?
        public var packetsDropped: Int
        public var interruption: String?
        public var lastError: String?
    }

    public var pid: Int32
    public var updated: Date
    public var storage: Storage
    public var cameras: [Camera]

    /// Seconds after which a status file no longer describes a running recorder.
    public static let staleAfter = 15.0

    public static func read(from path: String) -> RecorderStatusReport? {
        guard let text = SmallFile.read(path), let data = text.data(using: .utf8) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try? decoder.decode(RecorderStatusReport.self, from: data)
    }

    func write(to path: String) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return }
        SmallFile.write(String(decoding: data, as: UTF8.self), to: path, capacity: 64 << 10)
    }
}

extension Recorder {
    /// The status file and the metrics, from the cameras, their feeds and the storage.
    func writeStatus() {
        let state = storageState
        let feeds = Dictionary(core.statuses().map { ("\($0.cameraID)/\($0.stream)", $0) }, uniquingKeysWith: { a, _ in a })
        let alerts = retentionNotMet
        var cameras: [RecorderStatusReport.Camera] = []
        let all = statuses()
        let subs = Dictionary(all.filter { $0.stream == .sub }.map { ($0.cameraID, $0) }, uniquingKeysWith: { a, _ in a })
        func word(_ feed: FeedStatus?) -> String {
            switch feed?.state {
            case .live?: "live"
            case .connecting?, .stopped?, nil: "connecting"
            case .lost?, .reconnecting?: "lost"
            }
        }
        for status in all where status.stream == .main {
            let feed = feeds["\(status.cameraID)/main"]
            var camera = RecorderStatusReport.Camera(
                id: status.cameraID, feed: word(feed), recording: status.recording, bitsPerSecond: feed?.bitsPerSecond ?? 0,
                segment: status.segmentPath, packetsDropped: status.packetsDropped, retentionNotMetSince: alerts[status.cameraID],
                interruption: status.interruption, lastError: status.lastError)
            Gauge(label: "vigie_camera_recording", dimensions: [("camera", status.cameraID)]).record(status.recording ? 1 : 0)
            Gauge(label: "vigie_camera_packets_dropped", dimensions: [("camera", status.cameraID)]).record(status.packetsDropped)
            if let sub = subs[status.cameraID] {
                let subFeed = feeds["\(status.cameraID)/sub"]
                camera.sub = .init(
                    feed: word(subFeed), recording: sub.recording, bitsPerSecond: subFeed?.bitsPerSecond ?? 0, segment: sub.segmentPath,
                    packetsDropped: sub.packetsDropped, interruption: sub.interruption, lastError: sub.lastError)
                Gauge(label: "vigie_camera_sub_recording", dimensions: [("camera", status.cameraID)]).record(sub.recording ? 1 : 0)
                Gauge(label: "vigie_camera_sub_packets_dropped", dimensions: [("camera", status.cameraID)]).record(sub.packetsDropped)
            }
            cameras.append(camera)
        }
        let indexing = state.indexing.map { "\($0.done)/\($0.total) indexed, \($0.hashed) hashed" }
        let report = RecorderStatusReport(
            pid: getpid(), updated: Date(),
            storage: .init(
                diskBytes: state.diskBytes, freeBytes: state.freeBytes, floorBytes: state.budget?.floorBytes ?? 0,
                writeBytesPerSecond: state.writeBytesPerSecond, pausedSince: state.pausedSince, catalogReserveBytes: state.catalogReserveBytes,
                lastBackup: state.lastBackup, backupProblem: state.backupProblem, rebuilt: state.rebuilt?.description, indexing: indexing,
                quarantinedFiles: state.quarantined, destroyedForSpace: state.destroyedForSpace),
            cameras: cameras)
        report.write(to: store.statusPath)
        Gauge(label: "vigie_catalog_rebuilt").record(state.rebuilt == nil ? 0 : 1)
        Gauge(label: "vigie_quarantined_files").record(state.quarantined)
    }
}

extension Recorder {
    /// Writes a state file beside the catalog (metrics for a Prometheus textfile collector),
    /// in place so that a full disk does not stop it.
    public func writeStateFile(_ text: String, to path: String) {
        SmallFile.write(text, to: path, capacity: 64 << 10)
    }
}
