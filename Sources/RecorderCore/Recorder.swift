public import Foundation
import Logging
import Media
import Synchronization

/// What recovery did after an unclean stop.
public struct RecoveryReport: Sendable, CustomStringConvertible {
    public var recovered: [String] = []
    public var removedRows: [String] = []
    public var adoptedFiles: [String] = []
    public var finishedDestructions = 0
    public var isEmpty: Bool { recovered.isEmpty && removedRows.isEmpty && adoptedFiles.isEmpty && finishedDestructions == 0 }
    public var description: String {
        "\(recovered.count) partial segment(s) closed, \(removedRows.count) empty row(s) removed, \(adoptedFiles.count) unknown file(s) indexed, \(finishedDestructions) destruction(s) finished"
    }
}

/// What a retention pass did.
public struct RetentionReport: Sendable {
    public var destroyed: [Destruction] = []
    public var retentionNotMet: [String: Date] = [:]
    public var usedBytes: Int64 = 0
    public var quotaBytes: Int64?
}

/// Records every camera of the site: one `CameraRecorder` per camera main stream, a
/// retention pass every few seconds, recovery of what a crash left before starting.
public final class Recorder: Sendable {
    public let core: RecorderCore
    public let store: RecordingStore
    public let segmentSeconds: Double
    public let who: String
    private let cameras: Mutex<[CameraRecorder]> = Mutex([])
    private let retentionAlert = Mutex<[String: Date]>([:])
    private let stopping = Atomic<Bool>(false)
    private let retentionDone = DispatchSemaphore(value: 0)
    private let clock: @Sendable () -> Date
    private let logger = Logger(label: "vigie.recorder")
    /// The storage's lock (one recorder per storage folder), held while recording.
    private let lockDescriptor = Mutex<Int32>(-1)

    public init(
        core: RecorderCore, store: RecordingStore, segmentSeconds: Double = 60, who: String,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.core = core
        self.store = store
        self.segmentSeconds = segmentSeconds
        self.who = who
        self.clock = clock
    }

    /// Recovers, then starts recording `cameraIDs` (every camera when nil) and the retention loop.
    public func start(cameraIDs: [String]? = nil, retentionEvery: Double = 10) throws(CatalogError) -> RecoveryReport {
        try takeStorageLock()
        let report = try Recorder.recover(store: store)
        if !report.isEmpty {
            logger.warning("recovered after an unclean stop: \(report)")
            store.audit.record(OperatorEvent(who: who, action: .recoveredAfterCrash, detail: report.description))
        }
        noteConfiguration()
        let wanted = cameraIDs ?? core.inventory.cameras.map(\.id)
        store.audit.record(OperatorEvent(who: who, action: .recorderStarted, detail: "\(wanted.count) cameras, segments of \(Int(segmentSeconds)) s"))
        var started: [CameraRecorder] = []
        for id in wanted {
            guard let feed = core.feed(camera: id, stream: .main) else { continue }
            let recorder = CameraRecorder(cameraID: id, feed: feed, store: store, segmentSeconds: segmentSeconds)
            recorder.start()
            started.append(recorder)
        }
        cameras.withLock { $0 = started }
        if retentionEvery > 0 {
            let thread = Thread { [self] in
                var next = 0.0
                while !stopping.load(ordering: .acquiring) {
                    if MonotonicClock.seconds() >= next {
                        next = MonotonicClock.seconds() + retentionEvery
                        do { _ = try retentionPass(now: clock()) } catch { logger.error("retention pass failed: \(error)") }
                    }
                    Thread.sleep(forTimeInterval: 0.2)
                }
                retentionDone.signal()
            }
            thread.name = "retention"
            thread.start()
        } else {
            retentionDone.signal()
        }
        return report
    }

    /// Writes a configuration change to the audit log when the site file differs (by
    /// SHA-256) from the one the last recorder start saw.
    func noteConfiguration() {
        let file = core.inventory.file
        guard let digest = RecordingStore.digest(of: URL(fileURLWithPath: file)) else { return }
        let marker = "site file \(file) sha256 \(digest.sha256)"
        let last = (try? store.catalog.auditEntries(camera: nil, since: nil, who: nil))?
            .last { $0.event.action == .configurationChanged }
        if last?.event.detail != marker {
            store.audit.record(OperatorEvent(who: who, action: .configurationChanged, detail: marker))
        }
    }

    /// Closes every segment cleanly and stops (SIGTERM).
    public func stop() {
        stopping.store(true, ordering: .releasing)
        let all = cameras.withLock { $0 }
        for camera in all { camera.requestStop() }
        for camera in all where !camera.wait(timeout: 15) { logger.error("\(camera.cameraID): recorder thread did not stop in 15 s") }
        _ = retentionDone.wait(timeout: .now() + 15)
        store.audit.record(OperatorEvent(who: who, action: .recorderStopped, detail: "\(all.count) cameras"))
        lockDescriptor.withLock { descriptor in
            if descriptor >= 0 { close(descriptor) }  // releases the lock
            descriptor = -1
        }
    }

    /// Two recorders on one storage folder would write every camera twice and recover each
    /// other's open segments: the second is refused (the kernel drops the lock if the first dies).
    private func takeStorageLock() throws(CatalogError) {
        let path = store.root.appendingPathComponent("recorder.lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CatalogError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var owner = [UInt8](repeating: 0, count: 32)
            let count = read(descriptor, &owner, owner.count)
            close(descriptor)
            let pid = String(decoding: owner.prefix(max(0, count)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw CatalogError("another recorder\(pid.isEmpty ? "" : " (pid \(pid))") is recording into \(store.root.path)")
        }
        ftruncate(descriptor, 0)
        let text = "\(getpid())\n"
        _ = text.withCString { write(descriptor, $0, strlen($0)) }
        lockDescriptor.withLock { $0 = descriptor }
    }

    public func statuses() -> [CameraRecordingStatus] { cameras.withLock { $0.map(\.status) } }

    /// Cameras whose footage went before its retention because of the quota, since when.
    public var retentionNotMet: [String: Date] { retentionAlert.withLock { $0 } }

    // MARK: Retention

    /// Destroys what is past its retention and what the quota needs, never held footage;
    /// each destruction goes to the register before its file goes, and the audit log
    /// gets one entry per camera and pass.
    @discardableResult
    public func retentionPass(now: Date) throws(CatalogError) -> RetentionReport {
        let catalog = store.catalog
        let inventory = core.inventory
        let holds = try catalog.holds(includeReleased: false)
        let used = try catalog.usage().reduce(Int64(0)) { $0 + $1.bytes }
        var quota = inventory.site.storageQuota.map { $0.limit(diskBytes: Recorder.diskSize(store.root).total) }
        // Never fill the disk: keep 2 % of it (at least 1 GB) free, whatever the quota says.
        let disk = Recorder.diskSize(store.root)
        if disk.total > 0 {
            let reserve = max(Int64(1_000_000_000), disk.total / 50)
            let ceiling = used + disk.free - reserve
            quota = min(quota ?? ceiling, ceiling)
        }
        var report = RetentionReport(usedBytes: used, quotaBytes: quota)
        var batch = 0
        repeat {
            let oldest = try catalog.oldestSegments(limit: 2000)
            let plan = RetentionPlanner.plan(
                oldestFirst: oldest, holds: holds, now: now, retentionDays: inventory.retentionDays(camera:),
                used: used - report.destroyed.reduce(0) { $0 + $1.bytes }, quota: quota)
            for (camera, since) in plan.retentionNotMet { report.retentionNotMet[camera] = since }
            if plan.stillOverQuota > 0 && batch == 0 {
                logger.warning("storage quota: \(plan.stillOverQuota) bytes over it are held or being written and cannot be destroyed")
            }
            if plan.destroy.isEmpty { break }
            for item in plan.destroy {
                let segment = item.segment
                var destruction = Destruction(
                    camera: segment.camera, start: segment.start, end: segment.end, bytes: segment.bytes, path: segment.path,
                    destroyedAt: nil, reason: item.reason)
                let id = try catalog.beginDestruction(destruction, segmentID: segment.id)
                let url = store.url(of: segment)
                if unlink(url.path) != 0 && errno != ENOENT {
                    logger.error("cannot destroy \(segment.path): \(String(cString: strerror(errno)))")
                    continue
                }
                try catalog.completeDestruction(id: id, segmentID: segment.id, at: clock())
                destruction.destroyedAt = clock()
                report.destroyed.append(destruction)
            }
            batch += 1
        } while batch < 50 && !stopping.load(ordering: .acquiring)
        // One audit entry per camera and reason, with the period destroyed.
        let groups = Dictionary(grouping: report.destroyed) { "\($0.camera)\u{0}\($0.reason)" }
        for (_, items) in groups.sorted(by: { $0.key < $1.key }) {
            let first = items[0]
            store.audit.record(
                OperatorEvent(
                    who: "recorder", action: .destroyed, cameraID: first.camera,
                    detail: "\(items.count) segment(s), \(items.reduce(0) { $0 + $1.bytes }) bytes", from: items.map(\.start).min(),
                    to: items.map(\.end).max(), reason: first.reason))
        }
        let previous = retentionAlert.withLock { alerts in
            defer { alerts = report.retentionNotMet }
            return alerts
        }
        for (camera, since) in report.retentionNotMet where previous[camera] == nil {
            logger.warning("storage quota: \(camera) keeps less than its \(inventory.retentionDays(camera: camera)) days (footage destroyed up to \(since))")
            store.audit.record(
                OperatorEvent(who: "recorder", action: .retentionNotMet, cameraID: camera, detail: "storage quota reached", to: since))
        }
        return report
    }

    static func diskSize(_ url: URL) -> (total: Int64, free: Int64) {
        var stats = statvfs()
        guard statvfs(url.path, &stats) == 0 else { return (0, 0) }
        return (Int64(stats.f_blocks) * Int64(stats.f_frsize), Int64(stats.f_bavail) * Int64(stats.f_frsize))
    }

    // MARK: Recovery

    /// Makes the catalog match the files after a crash: finishes destructions under way,
    /// closes segments left open from what their files hold (or drops rows without a
    /// file), and indexes segment files the catalog does not know.
    public static func recover(store: RecordingStore) throws(CatalogError) -> RecoveryReport {
        var report = RecoveryReport()
        let catalog = store.catalog
        for pending in try catalog.pendingDestructions() {
            unlink(store.root.appendingPathComponent(pending.destruction.path).path)
            try catalog.completeDestruction(id: pending.id, segmentID: pending.segmentID, at: Date())
            report.finishedDestructions += 1
        }
        for segment in try catalog.openSegments() {
            let url = store.url(of: segment)
            let scan = try? SegmentScan.scan(url)
            guard let scan, scan.packets > 0 else {
                unlink(url.path)
                try catalog.removeSegment(id: segment.id)
                report.removedRows.append(segment.path)
                continue
            }
            var closed = segment
            closed.end = segment.start.addingTimeInterval(scan.duration)
            closed.keyframes = scan.keyframes
            closed.state = .recovered
            if let digest = RecordingStore.digest(of: url) {
                closed.sha256 = digest.sha256
                closed.bytes = digest.bytes
            }
            try catalog.updateSegment(closed)
            report.recovered.append(segment.path)
        }
        // Files nobody indexed (a catalog restored from a backup): indexed from their names.
        let known = Set(try catalog.segments(camera: nil, from: nil, to: nil).map(\.path))
        for path in segmentFiles(under: store.root) where !known.contains(path) {
            let url = store.root.appendingPathComponent(path)
            guard let start = startFromPath(path), let scan = try? SegmentScan.scan(url), scan.packets > 0,
                let digest = RecordingStore.digest(of: url)
            else { continue }
            let camera = String(path.split(separator: "/")[0])
            _ = try catalog.insertSegment(
                SegmentRecord(
                    camera: camera, path: path, start: start, end: start.addingTimeInterval(scan.duration), bytes: digest.bytes,
                    sha256: digest.sha256, keyframes: scan.keyframes, state: .recovered))
            report.adoptedFiles.append(path)
        }
        return report
    }

    /// Relative paths of every CAMERA/DAY/*.ts under the storage folder.
    static func segmentFiles(under root: URL) -> [String] {
        let manager = FileManager.default
        var paths: [String] = []
        for camera in (try? manager.contentsOfDirectory(atPath: root.path)) ?? [] {
            let cameraURL = root.appendingPathComponent(camera)
            var isFolder: ObjCBool = false
            guard manager.fileExists(atPath: cameraURL.path, isDirectory: &isFolder), isFolder.boolValue else { continue }
            for day in (try? manager.contentsOfDirectory(atPath: cameraURL.path)) ?? [] {
                for file in (try? manager.contentsOfDirectory(atPath: cameraURL.appendingPathComponent(day).path)) ?? []
                where file.hasSuffix(".ts") {
                    paths.append("\(camera)/\(day)/\(file)")
                }
            }
        }
        return paths.sorted()
    }

    /// CAMERA/YYYY-MM-DD/HHMMSS[-n].ts → that UTC time.
    static func startFromPath(_ path: String) -> Date? {
        let parts = path.split(separator: "/")
        guard parts.count == 3 else { return nil }
        let time = parts[2].prefix(6)
        var components = DateComponents()
        let day = parts[1].split(separator: "-").compactMap { Int($0) }
        guard day.count == 3, time.count == 6, let hhmmss = Int(time) else { return nil }
        components.year = day[0]
        components.month = day[1]
        components.day = day[2]
        components.hour = hhmmss / 10000
        components.minute = hhmmss / 100 % 100
        components.second = hhmmss % 100
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: components)
    }

    // MARK: Verify

    /// Checks every segment of the catalog against its file: presence, size, SHA-256,
    /// duration read back; continuity between segments (holes without a gap row); files
    /// the catalog does not know. Returns what is wrong, in plain words.
    public static func verify(store: RecordingStore, camera: String? = nil, readFiles: Bool = true) throws(CatalogError) -> [String] {
        var problems: [String] = []
        let segments = try store.catalog.segments(camera: camera, from: nil, to: nil)
        for segment in segments {
            let url = store.url(of: segment)
            guard FileManager.default.fileExists(atPath: url.path) else {
                problems.append("\(segment.path): in the catalog, but the file is missing")
                continue
            }
            if segment.state == .open { continue }  // being written
            guard readFiles else { continue }
            if let digest = RecordingStore.digest(of: url) {
                if digest.bytes != segment.bytes { problems.append("\(segment.path): \(digest.bytes) bytes, the catalog says \(segment.bytes)") }
                if let expected = segment.sha256, digest.sha256 != expected {
                    problems.append("\(segment.path): SHA-256 differs from the catalog's (the file was changed)")
                }
            }
            if let scan = try? SegmentScan.scan(url) {
                if abs(scan.duration - segment.duration) > 1 {
                    problems.append(String(format: "%@: holds %.1f s of video, the catalog says %.1f s", segment.path, scan.duration, segment.duration))
                }
            } else {
                problems.append("\(segment.path): cannot be read as MPEG-TS")
            }
        }
        // Continuity per camera: a hole longer than 2 s needs a gap row that explains it.
        for (cameraID, list) in Dictionary(grouping: segments, by: \.camera) {
            let sorted = list.sorted { $0.start < $1.start }
            for (previous, next) in zip(sorted, sorted.dropFirst()) {
                let hole = next.start.timeIntervalSince(previous.end)
                if hole > 2 {
                    let explained = try store.catalog.gaps(camera: cameraID, from: previous.end, to: next.start).contains {
                        $0.start <= previous.end.addingTimeInterval(2) && $0.end >= next.start.addingTimeInterval(-2)
                    }
                    if !explained {
                        problems.append(String(format: "%@: %.1f s missing between %@ and %@, no gap recorded", cameraID, hole, previous.path, next.path))
                    }
                } else if hole < -2 {
                    problems.append(String(format: "%@: %@ and %@ overlap by %.1f s", cameraID, previous.path, next.path, -hole))
                }
            }
        }
        if camera == nil {
            let known = Set(segments.map(\.path))
            for path in segmentFiles(under: store.root) where !known.contains(path) {
                problems.append("\(path): a segment file the catalog does not know")
            }
        }
        return problems
    }
}
