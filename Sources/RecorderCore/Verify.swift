import Foundation

/// What `recordings verify` found: problems (the catalog and the files disagree, time is
/// unaccounted for), notes (true and worth knowing: a rebuilt catalog, files kept apart),
/// and how many segments were checked.
public struct VerifyReport: Sendable {
    public var problems: [String] = []
    public var notes: [String] = []
    public var segments = 0
}

extension Recorder {
    /// Time within which two records count as touching (the catalog stores microseconds).
    static let tilingTolerance = 0.01

    /// Checks every segment of the catalog against its file (presence, size, SHA-256,
    /// duration read back), and that each camera's time is tiled: segments, gaps and
    /// destructions follow each other without a hole or an overlap, up to the last clean
    /// stop of the recorder; files among the footage that the catalog does not know.
    public static func verify(store: RecordingStore, camera: String? = nil, readFiles: Bool = true) throws(CatalogError) -> VerifyReport {
        var report = VerifyReport()
        let catalog = store.catalog
        let running = store.isRecorderRunning
        let lastStart = try catalog.lastAuditEntry(action: .recorderStarted)?.event.when
        let lastStop = try catalog.lastAuditEntry(action: .recorderStopped)?.event.when
        let recorded = try catalog.usage().map(\.camera)
        let cameras = camera.map { [$0] } ?? Set(recorded).union(store.cameraFolders()).sorted()
        var rebuiltUnhashed = 0, rebuilt = 0
        // Camera by camera: a month of a large site is millions of segments.
        for cameraID in cameras {
            let segments = try catalog.segments(camera: cameraID, stream: nil, from: nil, to: nil)
            report.segments += segments.count
            for segment in segments {
                let url = store.url(of: segment)
                guard FileManager.default.fileExists(atPath: url.path) else {
                    // Destroyed while verify ran (retention, a full disk): its row is gone now.
                    if try catalog.segmentExists(path: segment.path) {
                        report.problems.append("\(segment.path): in the catalog, but the file is missing")
                    }
                    continue
                }
                if segment.state == .open { continue }  // being written
                if segment.state == .rebuilt {
                    rebuilt += 1
                    if segment.sha256 == nil { rebuiltUnhashed += 1 }
                }
                guard readFiles else { continue }
                if let digest = RecordingStore.digest(of: url) {
                    if digest.bytes != segment.bytes { report.problems.append("\(segment.path): \(digest.bytes) bytes, the catalog says \(segment.bytes)") }
                    if let expected = segment.sha256, digest.sha256 != expected {
                        report.problems.append("\(segment.path): SHA-256 differs from the catalog's (the file was changed)")
                    }
                }
                if let scan = try? SegmentScan.scan(url) {
                    if abs(scan.duration - segment.duration) > 1 {
                        report.problems.append(
                            String(format: "%@: holds %.1f s of video, the catalog says %.1f s", segment.path, scan.duration, segment.duration))
                    }
                } else {
                    report.problems.append("\(segment.path): cannot be read as MPEG-TS")
                }
            }

            // Each stream's time, tiled by its segments, gaps and destructions.
            let destructions = try catalog.destructions(camera: cameraID, since: nil).filter { $0.destroyedAt != nil }
            for stream in StreamChoice.allCases {
                let gaps = try catalog.gaps(camera: cameraID, stream: stream, from: .distantPast, to: .distantFuture)
                let streamSegments = segments.filter { $0.stream == stream }
                if stream == .sub && streamSegments.isEmpty && gaps.isEmpty { continue }
                let name = stream == .main ? cameraID : "\(cameraID) (sub stream)"
                var items: [(start: Date, end: Date, name: String)] = streamSegments.map { ($0.start, $0.end, $0.path) }
                for gap in gaps {
                    items.append((gap.start, gap.end, "gap (\(gap.reason))"))
                }
                for destruction in destructions where destruction.stream == stream {
                    items.append((destruction.start, destruction.end, "destroyed \(destruction.path) (\(destruction.reason))"))
                }
                items.sort { ($0.start, $0.end) < ($1.start, $1.end) }
                if var covered = items.first?.end {
                    var last = items[0].name
                    for item in items.dropFirst() {
                        let hole = item.start.timeIntervalSince(covered)
                        if hole > tilingTolerance {
                            report.problems.append(String(format: "%@: %.3f s missing between %@ and %@, no gap recorded", name, hole, last, item.name))
                        } else if hole < -tilingTolerance {
                            report.problems.append(String(format: "%@: %@ and %@ overlap by %.3f s", name, last, item.name, -hole))
                        }
                        if item.end >= covered {
                            covered = item.end
                            last = item.name
                        }
                    }
                    // After a clean stop, what the recorder recorded in that run reaches the stop.
                    if !running, let lastStop, let lastStart, lastStop >= lastStart, covered >= lastStart, lastStop.timeIntervalSince(covered) > 2 {
                        report.problems.append(
                            String(
                                format: "%@: %.1f s missing between %@ and the recorder's stop at %@, no gap recorded", name,
                                lastStop.timeIntervalSince(covered), last, "\(lastStop)"))
                    }
                }
            }
            let known = Set(segments.map(\.path))
            for path in store.segmentFiles(camera: cameraID) where !known.contains(path) {
                // A segment begun while verify ran has its row now.
                if try !catalog.segmentExists(path: path) && FileManager.default.fileExists(atPath: store.root.appendingPathComponent(path).path) {
                    report.problems.append("\(path): a segment file the catalog does not know")
                }
            }
        }
        if rebuilt > 0 {
            report.notes.append(
                "\(rebuilt) segment(s) were indexed from their files when the catalog was rebuilt: their hashes were taken then, not when they were recorded"
                    + (rebuiltUnhashed > 0 ? " (\(rebuiltUnhashed) not hashed yet: the rebuild is still reading them)" : ""))
        }
        if !running, let lastStart, lastStop.map({ $0 < lastStart }) ?? true {
            report.notes.append(
                "the recorder did not stop cleanly after its start at \(lastStart): the time since each camera's last segment is accounted for at its next start")
        }
        if camera == nil {
            let quarantined = store.quarantinedFiles()
            if !quarantined.isEmpty {
                report.notes.append(
                    "\(quarantined.count) file(s) found among the footage that the recorder did not write are kept apart in \(store.quarantine.path) (not footage)")
            }
        }
        return report
    }
}
