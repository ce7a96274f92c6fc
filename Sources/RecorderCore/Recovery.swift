import Foundation

extension Recorder {
    /// Makes the catalog match the files after a crash: finishes destructions under way,
    /// closes segments left open from what their files hold (or drops rows without a file).
    /// Recording starts after it: it reads only the files of the segments that were open.
    public static func recover(store: RecordingStore) throws(CatalogError) -> RecoveryReport {
        var report = RecoveryReport()
        let catalog = store.catalog
        // Destructions a crash interrupted: finished when no hold came to cover the footage
        // meanwhile and the file could go, else given up (the footage stays).
        let holds = try catalog.holds(includeReleased: false)
        for pending in try catalog.pendingDestructions() {
            let destruction = pending.destruction
            let file = store.root.appendingPathComponent(destruction.path).path
            if FileManager.default.fileExists(atPath: file) {
                let held = holds.contains { $0.covers(camera: destruction.camera, from: destruction.start, to: destruction.end) }
                if held || (unlink(file) != 0 && errno != ENOENT) {
                    try catalog.abortDestruction(id: pending.id)
                    continue
                }
            }
            try catalog.completeDestruction(id: pending.id, segmentID: pending.segmentID, at: Date())
            report.finishedDestructions += 1
        }
        // Segments left open: closed from what their files hold, read once (hash, keyframes,
        // duration in the same pass).
        for segment in try catalog.openSegments() {
            let url = store.url(of: segment)
            let scan = try? TransportStreamScan.full(path: url.path)
            guard let scan, scan.firstPTS != nil, scan.pictures > 0 else {
                unlink(url.path)
                try catalog.removeSegment(id: segment.id)
                report.removedRows.append(segment.path)
                continue
            }
            var closed = segment
            closed.end = segment.start.addingTimeInterval(scan.duration)
            closed.keyframes = scan.keyframes
            closed.state = .recovered
            closed.sha256 = scan.sha256
            closed.bytes = scan.bytes
            try catalog.updateSegment(closed)
            report.recovered.append(segment.path)
        }
        return report
    }
}

/// A file found among the footage that the recorder did not write.
public struct ForeignFile: Sendable {
    public let path: String
    public let movedTo: String
    public let bytes: Int64
    public let sha256: String
}

extension Recorder {
    /// Rows are written before files, so while the catalog is sound a segment file it does
    /// not know was not written by the recorder (copied in by hand, planted): it is moved to
    /// `quarantine/`, reported with its size and hash, and never indexed as footage. The
    /// exception is `expected`: the files of a rebuilt catalog, indexed by the rebuild. Camera
    /// by camera (a month of a large site is millions of files); a candidate is looked up
    /// again just before it moves, so a segment begun meanwhile is never taken for one.
    public static func quarantineForeignFiles(
        store: RecordingStore, expected: Set<String> = [], stop: () -> Bool = { false }
    ) throws(CatalogError) -> [ForeignFile] {
        var found: [ForeignFile] = []
        for camera in store.cameraFolders() where !stop() {
            let known = try store.catalog.segmentPaths(camera: camera)
            for path in store.segmentFiles(camera: camera) where !known.contains(path) && !expected.contains(path) {
                guard try !store.catalog.segmentExists(path: path) else { continue }
                let digest = RecordingStore.digest(of: store.root.appendingPathComponent(path))
                let movedTo = try store.quarantine(path)
                found.append(ForeignFile(path: path, movedTo: movedTo, bytes: digest?.bytes ?? 0, sha256: digest?.sha256 ?? "unreadable"))
            }
        }
        return found
    }
}
