import Foundation
import Logging
import Metrics

/// The storage guard: twice a second (and at once when a write fails) it looks at the
/// disk's free space. Under the budget's floor, the oldest footage that no hold covers
/// goes (destruction register first, as for retention) until the target is free again,
/// so recording never stops while unheld footage is left. When only held footage is left,
/// recording pauses with a loud alert (log, audit, status, metrics) and resumes by itself
/// once space returns (a hold released, a disk grown, files removed).
extension Recorder {
    func guardStorage(writeRate: Double) {
        var disk = Recorder.diskSize(store.root)
        guard disk.total > 0 else { return }
        let count = max(1, cameras.withLock { $0.count })
        let budget = StorageBudget.plan(diskBytes: disk.total, writeBytesPerSecond: writeRate, cameras: count, catalogBytes: store.catalog.fileBytes)
        gate.setSegmentByteLimit(budget.segmentByteLimit)
        var exhausted = false
        var destroyedCount = 0
        if disk.free < budget.floorBytes {
            let room = makeRoom(bytes: budget.targetBytes - disk.free)
            exhausted = room.exhausted
            destroyedCount = room.destroyed
            disk = Recorder.diskSize(store.root)
        }
        let now = clock()
        let pausedSince = storage.withLock { $0.pausedSince }
        if pausedSince == nil && disk.free < budget.floorBytes && exhausted {
            let kept = (try? store.catalog.usage().reduce(Int64(0)) { $0 + $1.bytes }) ?? 0
            let message =
                "storage full: only held footage is left (\(kept) bytes of footage, all of it held or being written; \(disk.free) bytes free, \(budget.floorBytes) needed); recording PAUSED for every camera until space returns"
            logger.critical("\(message)")
            store.audit.record(OperatorEvent(who: "recorder", action: .recordingPaused, detail: message))
            gate.setPaused(true)
            storage.withLock { $0.pausedSince = now }
        } else if let since = pausedSince, disk.free >= budget.resumeBytes {
            let message = String(format: "storage: %lld bytes free again; recording resumed after %.0f s paused", disk.free, now.timeIntervalSince(since))
            logger.notice("\(message)")
            store.audit.record(OperatorEvent(who: "recorder", action: .recordingResumed, detail: message))
            gate.setPaused(false)
            storage.withLock { $0.pausedSince = nil }
        }
        let state = storage.withLock { state -> StorageState in
            state.diskBytes = disk.total
            state.freeBytes = disk.free
            state.budget = budget
            state.writeBytesPerSecond = writeRate
            state.destroyedForSpace += destroyedCount
            return state
        }
        Gauge(label: "vigie_storage_bytes").record(disk.total)
        Gauge(label: "vigie_storage_free_bytes").record(disk.free)
        Gauge(label: "vigie_storage_floor_bytes").record(budget.floorBytes)
        Gauge(label: "vigie_recording_paused").record(state.pausedSince == nil ? 0 : 1)
        Gauge(label: "vigie_write_bytes_per_second").record(writeRate)
        Gauge(label: "vigie_catalog_reserve_bytes").record(state.catalogReserveBytes)
    }

    /// Destroys the oldest closed footage no hold covers until `bytes` are freed; says
    /// whether it ran out of such footage first. While a rebuilt catalog is indexed, footage
    /// not indexed yet may be the oldest: it goes first (with its register row).
    func makeRoom(bytes needed: Int64) -> (destroyed: Int, exhausted: Bool) {
        var destroyed: [Destruction] = []
        var exhausted = false
        do {
            var freed: Int64 = 0
            if !indexingDone.load(ordering: .acquiring) {
                for destruction in try destroyPending(bytes: needed) {
                    destroyed.append(destruction)
                    freed += destruction.bytes
                }
            }
            var cursor: (start: Date, id: Int64)? = nil
            scan: while freed < needed && !stopping.load(ordering: .acquiring) {
                let page = try store.catalog.oldestSegments(limit: 200, after: cursor)
                guard let last = page.last else {
                    exhausted = pendingFiles.count == 0 || indexingDone.load(ordering: .acquiring)
                    break
                }
                cursor = (last.start, last.id)
                let holds = try store.catalog.holds(includeReleased: false)
                for segment in page {
                    if freed >= needed { break scan }
                    if holds.contains(where: { $0.covers(camera: segment.camera, from: segment.start, to: segment.end) }) { continue }
                    if let destruction = try destroy(segment, reason: "storage full") {
                        destroyed.append(destruction)
                        freed += segment.bytes
                    }
                }
            }
        } catch {
            catalogFailed(error, "storage guard: cannot destroy old footage")
        }
        if !destroyed.isEmpty {
            logger.warning("storage full: \(destroyed.count) oldest segment(s) destroyed (\(destroyed.reduce(0) { $0 + $1.bytes }) bytes) to keep recording")
            auditDestructions(destroyed)
            let inventory = core.inventory
            let now = clock()
            var notMet: [String: Date] = [:]
            for destruction in destroyed
            where destruction.end > now.addingTimeInterval(-Double(inventory.retentionDays(camera: destruction.camera)) * 86_400) {
                notMet[destruction.camera] = max(notMet[destruction.camera] ?? destruction.end, destruction.end)
            }
            noteRetention(notMet, cause: "storage full", replacing: false)
        }
        return (destroyed.count, exhausted)
    }

    /// Footage a rebuild has not indexed yet, older than anything the catalog knows: destroyed
    /// oldest first, each with its register row (no segment row: it never had one again).
    private func destroyPending(bytes needed: Int64) throws(CatalogError) -> [Destruction] {
        var destroyed: [Destruction] = []
        var freed: Int64 = 0
        while freed < needed && !stopping.load(ordering: .acquiring) {
            let oldestKnown = try store.catalog.oldestSegments(limit: 1, after: nil).first?.start
            guard let file = pendingFiles.takeOldest(before: oldestKnown) else { break }
            guard let scan = try? TransportStreamScan.quick(path: store.root.appendingPathComponent(file.path).path), scan.firstPTS != nil else {
                pendingFiles.putBack(file.key, paths: [file.path])  // the rebuild judges it
                break
            }
            let start = max(file.start, pendingEnds.withLock { $0[file.key] } ?? file.start)
            var destruction = Destruction(
                camera: file.key.camera, start: start, end: start.addingTimeInterval(scan.duration), bytes: scan.bytes, path: file.path,
                destroyedAt: nil, reason: "storage full")
            guard let id = try store.catalog.beginDestruction(destruction, segmentID: 0) else {
                pendingFiles.putBack(file.key, paths: [file.path])  // held: the rebuild indexes it
                break
            }
            guard unlink(store.root.appendingPathComponent(file.path).path) == 0 || errno == ENOENT else {
                try store.catalog.abortDestruction(id: id)
                pendingFiles.putBack(file.key, paths: [file.path])
                break
            }
            let at = clock()
            try store.catalog.completeDestruction(id: id, segmentID: 0, at: at)
            destruction.destroyedAt = at
            pendingEnds.withLock { $0[file.key] = destruction.end }
            destroyed.append(destruction)
            freed += destruction.bytes
        }
        return destroyed
    }
}
