public import Foundation
import Logging
import Media
import Metrics
import Synchronization

/// What recovery did after an unclean stop.
public struct RecoveryReport: Sendable, CustomStringConvertible {
    public var recovered: [String] = []
    public var removedRows: [String] = []
    public var finishedDestructions = 0
    public var isEmpty: Bool { recovered.isEmpty && removedRows.isEmpty && finishedDestructions == 0 }
    public var description: String {
        "\(recovered.count) partial segment(s) closed, \(removedRows.count) empty row(s) removed, \(finishedDestructions) destruction(s) finished"
    }
}

/// What a retention pass did.
public struct RetentionReport: Sendable {
    public var destroyed: [Destruction] = []
    public var retentionNotMet: [String: Date] = [:]
    public var usedBytes: Int64 = 0
    public var quotaBytes: Int64?
}

/// The storage as the recorder sees it (status, metrics, alerts).
public struct StorageState: Sendable {
    public var diskBytes: Int64 = 0
    public var freeBytes: Int64 = 0
    public var budget: StorageBudget?
    public var writeBytesPerSecond: Double = 0
    /// Since when recording is paused (only held footage left on a full disk).
    public var pausedSince: Date?
    public var catalogReserveBytes: Int64 = 0
    public var lastBackup: Date?
    public var backupProblem: String?
    /// The catalog was found damaged at start and rebuilt (what was done, said loudly).
    public var rebuilt: CatalogRebuild?
    /// Files indexed so far / to index, while a rebuilt catalog is indexed again.
    public var indexing: (done: Int, total: Int, hashed: Int)?
    public var quarantined = 0
    /// Footage destroyed by the storage guard to keep recording, since the start.
    public var destroyedForSpace = 0
}

/// Records every camera of the site: one `CameraRecorder` per camera main stream, a
/// storage guard that keeps the disk from filling, a retention pass every few seconds,
/// backups of the catalog, and recovery of what a crash left before starting.
public final class Recorder: Sendable {
    public let core: RecorderCore
    public let store: RecordingStore
    public let segmentSeconds: Double
    public let who: String
    public let gate = StorageGate()
    let cameras: Mutex<[CameraRecorder]> = Mutex([])
    let retentionAlert = Mutex<(quota: [String: Date], space: [String: Date])>(([:], [:]))
    let storage = Mutex(StorageState())
    let stopping = Atomic<Bool>(false)
    private let housekeepingDone = DispatchSemaphore(value: 0)
    private let checkDone = DispatchSemaphore(value: 0)
    private let rebuildDone = DispatchSemaphore(value: 0)
    private let guardDone = DispatchSemaphore(value: 0)
    /// The files a rebuild has still to index, and where the guard's destructions of them
    /// reached per camera.
    let pendingFiles = PendingFiles()
    let pendingEnds = Mutex<[StreamKey: Date]>([:])
    let clock: @Sendable () -> Date
    let logger = Logger(label: "vigie.recorder")
    private let lock = Mutex<StorageLock?>(nil)
    /// A catalog found damaged at start and rebuilt; its footage files are indexed after the start.
    let rebuild: CatalogRebuild?
    let indexingDone = Atomic<Bool>(true)

    public init(
        core: RecorderCore, store: RecordingStore, segmentSeconds: Double = 60, who: String, rebuild: CatalogRebuild? = nil,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.core = core
        self.store = store
        self.segmentSeconds = segmentSeconds
        self.who = who
        self.clock = clock
        self.rebuild = rebuild
    }

    /// Recovers, then starts recording `cameraIDs` (every camera when nil), the storage
    /// guard (every `guardEvery` s), retention (every `retentionEvery` s; 0: only when
    /// called) and catalog backups (every `backupEvery` s and whenever holds change).
    public func start(
        cameraIDs: [String]? = nil, retentionEvery: Double = 10, guardEvery: Double = 0.5, backupEvery: Double = 600
    ) throws(CatalogError) -> RecoveryReport {
        let taken = try StorageLock(root: store.root)
        lock.withLock { $0 = taken }
        let report: RecoveryReport
        do {
            report = try Recorder.recover(store: store)
        } catch {
            taken.release()
            throw error
        }
        if !report.isEmpty {
            logger.warning("recovered after an unclean stop: \(report)")
            store.audit.record(OperatorEvent(who: who, action: .recoveredAfterCrash, detail: report.description))
        }
        // Where each camera's old footage ends, before its recorder starts (the gap from there is exact).
        if let rebuild {
            let indexed = indexRecentFiles(of: rebuild)
            pendingFiles.fill(rebuild.filesToIndex.filter { !indexed.contains($0) })
        }
        noteConfiguration()
        let wanted = cameraIDs ?? core.inventory.cameras.map(\.id)
        let disk = Recorder.diskSize(store.root)
        let budget = StorageBudget.plan(diskBytes: disk.total, writeBytesPerSecond: Double(wanted.count) * Recorder.assumedCameraRate, cameras: wanted.count)
        gate.setSegmentByteLimit(budget.segmentByteLimit)
        keepCatalogReserve(budget, topUp: false)  // topped up by the housekeeping, not before recording starts
        storage.withLock {
            $0.diskBytes = disk.total
            $0.freeBytes = disk.free
            $0.budget = budget
            $0.rebuilt = rebuild
            $0.quarantined = store.quarantinedFiles().count
        }
        store.audit.record(OperatorEvent(who: who, action: .recorderStarted, detail: "\(wanted.count) cameras, segments of \(Int(segmentSeconds)) s"))
        var started: [CameraRecorder] = []
        for id in wanted {
            guard let feed = core.feed(camera: id, stream: .main) else { continue }
            let recorder = CameraRecorder(cameraID: id, feed: feed, store: store, gate: gate, segmentSeconds: segmentSeconds, clock: clock)
            recorder.start()
            started.append(recorder)
            // The sub stream beside it: the feed the relay sends to the wall's tiles is then already open.
            if core.inventory.site.recordSubStreams, core.inventory.camera(id)?.subURL != nil, let sub = core.feed(camera: id, stream: .sub) {
                let subRecorder = CameraRecorder(
                    cameraID: id, stream: .sub, feed: sub, store: store, gate: gate, segmentSeconds: segmentSeconds, clock: clock)
                subRecorder.start()
                started.append(subRecorder)
            }
        }
        cameras.withLock { $0 = started }
        // A rebuild's files indexed, then hashed; or the hashing a stop cut short, resumed.
        let unhashed = ((try? store.catalog.segmentsToIndex(limit: 1)) ?? []).isEmpty == false
        if rebuild != nil || unhashed {
            if rebuild != nil { indexingDone.store(false, ordering: .releasing) }
            let thread = Thread { [self] in
                if let rebuild { indexRebuiltFiles(rebuild) } else { hashRebuiltSegments(total: 0) }
                rebuildDone.signal()
            }
            thread.name = "catalog rebuild"
            thread.start()
        } else {
            rebuildDone.signal()
        }
        let check = Thread { [self] in
            checkStorage()
            checkDone.signal()
        }
        check.name = "storage check"
        check.start()
        let guardThread = Thread { [self] in
            storageGuard(every: guardEvery)
            guardDone.signal()
        }
        guardThread.name = "storage guard"
        guardThread.start()
        let thread = Thread { [self] in
            housekeeping(retentionEvery: retentionEvery, backupEvery: backupEvery)
            housekeepingDone.signal()
        }
        thread.name = "storage"
        thread.start()
        return report
    }

    /// A camera's write rate assumed until the recorder has measured (4 Mbit/s: the upper
    /// half of what municipal cameras send on their main stream).
    static let assumedCameraRate = 500_000.0

    /// Writes a configuration change to the audit log when the site file differs (by
    /// SHA-256) from the one the last recorder start saw.
    func noteConfiguration() {
        let file = core.inventory.file
        guard let digest = RecordingStore.digest(of: URL(fileURLWithPath: file)) else { return }
        let marker = "site file \(file) sha256 \(digest.sha256)"
        let last = try? store.catalog.lastAuditEntry(action: .configurationChanged)
        if last?.event.detail != marker {
            store.audit.record(OperatorEvent(who: who, action: .configurationChanged, detail: marker))
        }
    }

    /// Closes every segment cleanly and stops (SIGTERM).
    public func stop() {
        let stoppedAt = clock()
        gate.stopRequested(at: stoppedAt)
        stopping.store(true, ordering: .releasing)
        gate.requestPass()
        let all = cameras.withLock { $0 }
        for camera in all { camera.requestStop() }
        for camera in all where !camera.wait(timeout: 15) { logger.error("\(camera.cameraID) \(camera.stream): recorder thread did not stop in 15 s") }
        _ = housekeepingDone.wait(timeout: .now() + 15)
        _ = guardDone.wait(timeout: .now() + 15)
        _ = checkDone.wait(timeout: .now() + 15)
        _ = rebuildDone.wait(timeout: .now() + 30)
        writeStatus()
        store.audit.record(OperatorEvent(who: who, when: stoppedAt, action: .recorderStopped, detail: "\(all.filter { $0.stream == .main }.count) cameras"))
        lock.withLock { lock in
            lock?.release()
            lock = nil
        }
    }

    public func statuses() -> [CameraRecordingStatus] { cameras.withLock { $0.map(\.status) } }

    /// Cameras whose footage went before its retention because of the quota or a full disk, since when.
    public var retentionNotMet: [String: Date] { retentionAlert.withLock { $0.quota.merging($0.space) { max($0, $1) } } }

    public var storageState: StorageState { storage.withLock { $0 } }

    /// True when the catalog was found damaged while recording: the caller stops this
    /// recorder and starts a new one, which sets the file aside and rebuilds it.
    public var catalogDamaged: Bool { gate.catalogDamaged }
    /// What was found damaged (for the rebuild that follows).
    public var catalogDamage: String? { gate.damage }

    /// After the start, while the cameras record: SQLite's structural check of the whole
    /// catalog (half a minute for a month of 110 cameras on a cold disk: recording does not
    /// wait for it; damage found makes this recorder ask to be restarted to rebuild), then
    /// the footage folders searched for files the recorder did not write.
    private func checkStorage() {
        let started = MonotonicClock.seconds()
        do {
            let problems = try store.catalog.integrityProblems(limit: 5) { [self] in stopping.load(ordering: .relaxed) }
            if !problems.isEmpty {
                let problem = problems.joined(separator: "; ")
                logger.critical("the catalog is damaged: \(problem)")
                gate.reportDamage(problem)
                return
            }
            logger.info("catalog checked in \(String(format: "%.1f", MonotonicClock.seconds() - started)) s: sound")
        } catch {
            if stopping.load(ordering: .acquiring) { return }  // interrupted by the stop
            catalogFailed(error, "cannot check the catalog")
            if error.kind == .damaged { gate.reportDamage(error.message) }
            if gate.catalogDamaged { return }
        }
        if stopping.load(ordering: .acquiring) { return }
        do {
            let scanStart = MonotonicClock.seconds()
            let foreign = try Recorder.quarantineForeignFiles(store: store, expected: Set(rebuild?.filesToIndex ?? [])) {
                stopping.load(ordering: .acquiring)
            }
            if !stopping.load(ordering: .acquiring) {
                logger.info("footage folders searched for files the recorder did not write in \(String(format: "%.1f", MonotonicClock.seconds() - scanStart)) s")
            }
            for file in foreign {
                logger.error(
                    "\(file.path) was not written by the recorder: kept apart as \(file.movedTo), not indexed (\(file.bytes) bytes, sha256 \(file.sha256))")
                store.audit.record(
                    OperatorEvent(
                        who: who, action: .foreignFile, cameraID: SegmentPath.parse(file.path)?.camera,
                        detail: "\(file.path) (\(file.bytes) bytes, sha256 \(file.sha256)) kept apart as \(file.movedTo)"))
            }
            storage.withLock { $0.quarantined = store.quarantinedFiles().count }
        } catch {
            catalogFailed(error, "cannot look for foreign files")
        }
    }

    // MARK: Housekeeping

    /// The storage guard's own thread: a backup or a long retention pass never holds it up.
    private func storageGuard(every interval: Double) {
        var rate = WriteRate()
        while !stopping.load(ordering: .acquiring) {
            _ = gate.waitForRequest(seconds: interval > 0 ? interval : 0.5)
            if stopping.load(ordering: .acquiring) { break }
            rate.record(bytes: gate.bytesWritten, at: MonotonicClock.seconds(), paused: gate.isPaused)
            if interval > 0 { guardStorage(writeRate: rate.plannedBytesPerSecond(cameras: cameras.withLock { $0.filter { $0.stream == .main }.count })) }
        }
    }

    private func housekeeping(retentionEvery: Double, backupEvery: Double) {
        let started = MonotonicClock.seconds()
        var nextRetention = started
        var nextBackup = started + (FileManager.default.fileExists(atPath: store.backupPath) && rebuild == nil ? backupEvery : 5)
        var nextReserve = started
        var nextStatus = started
        var holdsSeen: [Hold]? = nil
        while !stopping.load(ordering: .acquiring) {
            Thread.sleep(forTimeInterval: 0.5)
            if stopping.load(ordering: .acquiring) { break }
            let now = MonotonicClock.seconds()
            if retentionEvery > 0 && now >= nextRetention && indexingDone.load(ordering: .acquiring) {
                nextRetention = now + retentionEvery
                do { _ = try retentionPass(now: clock()) } catch { catalogFailed(error, "retention pass failed") }
            }
            if backupEvery > 0 {
                let holds = try? store.catalog.holds(includeReleased: true)
                let holdsChanged = holdsSeen != nil && holds != nil && holds != holdsSeen
                if now >= nextBackup || holdsChanged {
                    if backUpCatalog() { holdsSeen = holds }
                    nextBackup = now + (holdsChanged && holdsSeen != holds ? 30 : backupEvery)
                } else if holdsSeen == nil {
                    holdsSeen = holds
                }
            }
            if now >= nextReserve, let budget = storage.withLock({ $0.budget }) {
                nextReserve = now + 30
                keepCatalogReserve(budget)
            }
            if now >= nextStatus {
                nextStatus = now + 2
                writeStatus()
            }
        }
    }

    /// Notes a catalog failure; damage makes the recorder ask to be restarted (rebuild).
    func catalogFailed(_ error: CatalogError, _ what: String) {
        logger.error("\(what): \(error)")
        if error.kind == .damaged { gate.reportDamage(error.message) }
    }

    /// Keeps the catalog's own reserve (free pages in its file, a write-ahead log that keeps
    /// its blocks), when the disk has room for it.
    func keepCatalogReserve(_ budget: StorageBudget, topUp: Bool = true) {
        let free = Recorder.diskSize(store.root).free
        do {
            // Always asked (it also sets when the log is checkpointed); it writes only when short.
            let room = free > budget.floorBytes + budget.catalogReserveBytes + budget.catalogLogBytes
            let wanted = topUp && room ? budget.catalogReserveBytes : 0
            let reserve = try store.catalog.ensureReserve(bytes: wanted, logBytes: budget.catalogLogBytes)
            storage.withLock { $0.catalogReserveBytes = reserve }
        } catch {
            catalogFailed(error, "cannot keep the catalog's reserve")
        }
    }

    /// Writes an online backup of the catalog beside it, when the disk has room for the copy.
    @discardableResult
    func backUpCatalog() -> Bool {
        let size = store.catalog.fileBytes
        let disk = Recorder.diskSize(store.root)
        // The floor keeps room for the copy: what is free above what the cameras need.
        let need = max(Int64(storage.withLock { $0.writeBytesPerSecond } * StorageBudget.floorSeconds), 1_000_000)
        guard disk.free > need + size + size / 5 else {
            let problem = "catalog backup skipped: \(disk.free) bytes free, the copy needs \(size)"
            if storage.withLock({ $0.backupProblem }) != problem { logger.warning("\(problem)") }
            storage.withLock { $0.backupProblem = problem }
            return false
        }
        let started = MonotonicClock.seconds()
        do {
            try store.catalog.backup(to: store.backupPath)
            logger.info("catalog backed up to \(store.backupPath) (\(size) bytes) in \(String(format: "%.2f", MonotonicClock.seconds() - started)) s")
            storage.withLock {
                $0.lastBackup = clock()
                $0.backupProblem = nil
            }
            return true
        } catch {
            catalogFailed(error, "catalog backup failed")
            storage.withLock { $0.backupProblem = "catalog backup failed: \(error)" }
            return false
        }
    }

    // MARK: Retention

    /// Destroys what is past its retention and what the quota needs, never held footage;
    /// each destruction goes to the register before its file goes, and the audit log
    /// gets one entry per camera and pass.
    @discardableResult
    public func retentionPass(now: Date) throws(CatalogError) -> RetentionReport {
        let catalog = store.catalog
        let inventory = core.inventory
        let used = try catalog.usage().reduce(Int64(0)) { $0 + $1.bytes }
        let quota = inventory.site.storageQuota.map { $0.limit(diskBytes: Recorder.diskSize(store.root).total) }
        var report = RetentionReport(usedBytes: used, quotaBytes: quota)
        // Oldest first, page after page (held footage at the old end does not stop the pass),
        // as far as footage can be past its retention or the quota is exceeded.
        let shortest = Double(([inventory.site.retentionDays ?? inventory.site.authorisedRetentionDays] + inventory.cameras.map { inventory.retentionDays(camera: $0.id) }).min() ?? 1)
        let expiry = now.addingTimeInterval(-shortest * 86_400)
        var cursor: (start: Date, id: Int64)? = nil
        var pages = 0
        while pages < 200 && (pages == 0 || !stopping.load(ordering: .acquiring)) {
            let page = try catalog.oldestSegments(limit: 2000, after: cursor)
            guard let last = page.last else { break }
            cursor = (last.start, last.id)
            pages += 1
            let remaining = used - report.destroyed.reduce(0) { $0 + $1.bytes }
            let plan = RetentionPlanner.plan(
                oldestFirst: page, holds: try catalog.holds(includeReleased: false), now: now, retentionDays: inventory.retentionDays(camera:),
                used: remaining, quota: quota)
            for (camera, since) in plan.retentionNotMet { report.retentionNotMet[camera] = since }
            for item in plan.destroy {
                if let destruction = try destroy(item.segment, reason: item.reason) { report.destroyed.append(destruction) }
            }
            let overQuota = quota.map { used - report.destroyed.reduce(0) { $0 + $1.bytes } > $0 } ?? false
            if last.start >= expiry && !overQuota { break }
        }
        if let quota, used - report.destroyed.reduce(0, { $0 + $1.bytes }) > quota {
            logger.warning("storage quota: \(used - report.destroyed.reduce(0) { $0 + $1.bytes } - quota) bytes over it are held or being written and cannot be destroyed")
        }
        auditDestructions(report.destroyed)
        noteRetention(report.retentionNotMet, cause: "storage quota reached")
        return report
    }

    /// Destroys one segment: the register first, then the file, then the register completed
    /// (with the row removed). Nil when the file could not be removed.
    func destroy(_ segment: SegmentRecord, reason: String) throws(CatalogError) -> Destruction? {
        var destruction = Destruction(
            camera: segment.camera, start: segment.start, end: segment.end, bytes: segment.bytes, path: segment.path, destroyedAt: nil,
            reason: reason)
        guard let id = try store.catalog.beginDestruction(destruction, segmentID: segment.id) else { return nil }  // held
        let url = store.url(of: segment)
        if unlink(url.path) != 0 && errno != ENOENT {
            logger.error("cannot destroy \(segment.path): \(String(cString: strerror(errno)))")
            try store.catalog.abortDestruction(id: id)
            return nil
        }
        let at = clock()
        try store.catalog.completeDestruction(id: id, segmentID: segment.id, at: at)
        destruction.destroyedAt = at
        Counter(label: "vigie_segments_destroyed_total", dimensions: [("reason", reason.hasPrefix("retention") ? "retention" : reason)]).increment()
        return destruction
    }

    /// One audit entry per camera and reason, with the period destroyed.
    func auditDestructions(_ destroyed: [Destruction]) {
        let groups = Dictionary(grouping: destroyed) { "\($0.camera)\u{0}\($0.reason)" }
        for (_, items) in groups.sorted(by: { $0.key < $1.key }) {
            let first = items[0]
            store.audit.record(
                OperatorEvent(
                    who: "recorder", action: .destroyed, cameraID: first.camera,
                    detail: "\(items.count) segment(s), \(items.reduce(0) { $0 + $1.bytes }) bytes", from: items.map(\.start).min(),
                    to: items.map(\.end).max(), reason: first.reason))
        }
    }

    /// Alerts once per camera whose footage went before its retention: the quota's list is
    /// recomputed by each retention pass (`replacing`), the storage guard's is added to and
    /// forgets a camera once the footage destroyed early would have expired anyway.
    func noteRetention(_ notMet: [String: Date], cause: String, replacing: Bool = true) {
        let inventory = core.inventory
        let now = clock()
        let previous = retentionAlert.withLock { alerts -> [String: Date] in
            let before = alerts.quota.merging(alerts.space) { max($0, $1) }
            if replacing {
                alerts.quota = notMet
            } else {
                alerts.space.merge(notMet) { max($0, $1) }
            }
            alerts.space = alerts.space.filter { $0.value > now.addingTimeInterval(-Double(inventory.retentionDays(camera: $0.key)) * 86_400) }
            return before
        }
        for (camera, since) in notMet.sorted(by: { $0.key < $1.key }) where previous[camera] == nil {
            logger.warning("\(cause): \(camera) keeps less than its \(inventory.retentionDays(camera: camera)) days (footage destroyed up to \(since))")
            store.audit.record(OperatorEvent(who: "recorder", action: .retentionNotMet, cameraID: camera, detail: cause, to: since))
        }
    }

    static func diskSize(_ url: URL) -> (total: Int64, free: Int64) {
        var stats = statvfs()
        guard statvfs(url.path, &stats) == 0 else { return (0, 0) }
        return (Int64(stats.f_blocks) * Int64(stats.f_frsize), Int64(stats.f_bavail) * Int64(stats.f_frsize))
    }
}

/// The cameras' write rate over the last ten seconds, and the rate to plan with: the
/// highest measured in the last minute while recording ran (a pause, or the first seconds
/// after one, must not make the storage guard think the cameras write less).
struct WriteRate {
    private var samples: [(time: Double, bytes: Int64)] = []
    private var peaks: [(time: Double, rate: Double)] = []

    mutating func record(bytes: Int64, at time: Double, paused: Bool) {
        samples.append((time, bytes))
        while let first = samples.first, time - first.time > 10 { samples.removeFirst() }
        if !paused, let first = samples.first, time - first.time >= 9 {
            peaks.append((time, Double(bytes - first.bytes) / (time - first.time)))
        }
        while let first = peaks.first, time - first.time > 60 { peaks.removeFirst() }
    }

    /// Before ten seconds were measured, at least what `cameras` cameras are assumed to send.
    func plannedBytesPerSecond(cameras: Int) -> Double {
        if let peak = peaks.map(\.rate).max() { return peak }
        guard let first = samples.first, let last = samples.last, last.time - first.time >= 1 else {
            return Double(cameras) * Recorder.assumedCameraRate
        }
        return max(Double(last.bytes - first.bytes) / (last.time - first.time), Double(cameras) * Recorder.assumedCameraRate)
    }
}
