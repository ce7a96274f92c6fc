public import Foundation
import Logging
import Media
import Synchronization

/// What the recorder did when it found its catalog damaged: the damaged file kept aside
/// for forensics (with its hash), the last backup restored (holds, registers and the audit
/// chain up to it) or, without a usable one, a new catalog, and the footage files to index
/// again from their names and contents. Said loudly: log, standard error, audit, status.
public struct CatalogRebuild: Sendable, CustomStringConvertible {
    public let at: Date
    /// What SQLite said of the file.
    public let problem: String
    /// Where the damaged file went, relative to the storage folder (nil: there was no file).
    public let keptAs: String?
    public let damagedSHA256: String
    public let damagedBytes: Int64
    /// Holds read back from the damaged file (those the backup did not have).
    public let salvagedHolds: Int
    /// The backup's time when it was restored; nil when none was usable.
    public let restoredFrom: Date?
    public let backupProblem: String?
    /// The audit head kept outside the catalog before the damage, and the last entry of the
    /// chain that survived (the backup's).
    public let formerHead: AuditHead?
    public let survivingHead: AuditHead?
    /// Footage files the surviving catalog does not know, indexed after the start.
    public let filesToIndex: [String]
    /// Rows of the backup whose files are gone (destroyed after the backup): moved to the register.
    public let missingFiles: Int
    /// A rebuild cut short, going on (its files still to index).
    public var resumed = false

    public struct AuditHead: Sendable, Hashable {
        public let sequence: Int64
        public let hash: String
    }

    public var description: String {
        if resumed { return "\(problem): \(filesToIndex.count) footage file(s) left to index" }
        var text = keptAs.map { "catalog damaged (\(problem)); kept as \($0) (sha256 \(damagedSHA256), \(damagedBytes) bytes); " } ?? "catalog lost (\(problem)); "
        if let restoredFrom {
            text += "restored from the backup of \(restoredFrom)"
        } else {
            text += "no usable backup (\(backupProblem ?? "none")): a new catalog, holds and registers before the damage are only in the damaged file"
        }
        if let formerHead {
            let kept = survivingHead?.sequence ?? 0
            if formerHead.sequence > kept {
                text += "; the audit head before the damage was entry \(formerHead.sequence) (\(formerHead.hash.prefix(16))): entries \(kept + 1) to \(formerHead.sequence) are only in the damaged file"
            }
        }
        if salvagedHolds > 0 { text += "; \(salvagedHolds) hold(s) read back from the damaged file" }
        text += "; \(filesToIndex.count) footage file(s) to index from their contents"
        if missingFiles > 0 { text += "; \(missingFiles) segment(s) of the backup no longer on disk, moved to the destruction register" }
        return text
    }
}

extension RecordingStore {
    /// Opens the storage for the recorder: the catalog for writing. A damaged catalog does
    /// not stop recording: it is set aside and rebuilt (see `CatalogRebuild`), and the
    /// recorder started with the result indexes the footage. Opening reads the file's header
    /// and schema (a file that is not a database, or cut short, is found here); the whole
    /// file is checked by the recorder once recording runs, and `knownDamage` (what that check
    /// found) rebuilds at once.
    public static func openForRecording(root: URL, who: String, knownDamage: String? = nil) throws(CatalogError) -> (RecordingStore, CatalogRebuild?) {
        do {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        } catch {
            throw CatalogError("cannot create the storage folder \(root.path): \(error.localizedDescription)", kind: .cannotOpen)
        }
        let path = catalogPath(root)
        if let knownDamage { return try rebuild(root: root, problem: knownDamage, who: who) }
        // A rebuild cut short (a stop, a crash): its files are still to index, not foreign.
        if let pending = SmallFile.read(root.appendingPathComponent(pendingRebuildFile).path), !pending.isEmpty {
            let store = try RecordingStore(root: root, catalog: try SQLiteCatalog(path: path, access: .readWrite))
            return (store, try resumedRebuild(store: store, note: pending))
        }
        // No catalog (or an empty file) beside footage or a backup: the catalog was lost.
        let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
        if size == nil || size == 0 {
            let backup = FileManager.default.fileExists(atPath: root.appendingPathComponent("catalog.backup.sqlite").path)
            if backup || RecordingStore.hasFootage(root) {
                return try rebuild(root: root, problem: size == nil ? "the catalog file is missing" : "the catalog file is empty", who: who)
            }
            if size == 0 { unlink(path) }
        }
        let problem: String
        switch checkedCatalog(path) {
        case .sound(let catalog): return (try RecordingStore(root: root, catalog: catalog), nil)
        case .damaged(let message): problem = message
        case .failed(let error): throw error
        }
        return try rebuild(root: root, problem: problem, who: who)
    }

    private enum Checked {
        case sound(SQLiteCatalog)
        case damaged(String)
        case failed(CatalogError)
    }

    /// A catalog opened for writing, or what is wrong with it. It is read first through a
    /// read-only connection (its header, its schema, its totals), so a file found damaged
    /// here is kept as it was found.
    private static func checkedCatalog(_ path: String) -> Checked {
        do {
            if FileManager.default.fileExists(atPath: path) {
                if let problem = headerProblem(path) { return .damaged(problem) }
                _ = try SQLiteCatalog(path: path, access: .readOnly).usage()
            }
            return .sound(try SQLiteCatalog(path: path, access: .readWrite))
        } catch where error.kind == .damaged {
            return .damaged(error.message)
        } catch {
            return .failed(error)
        }
    }

    /// What the file's 100-byte header says is wrong with it: not an SQLite database, or
    /// shorter than the pages it says it has (cut short).
    static func headerProblem(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let header = [UInt8]((try? handle.read(upToCount: 100)) ?? Data())
        let size = (try? handle.seekToEnd()).map(Int64.init) ?? 0
        guard size > 0 else { return nil }  // an empty file becomes a new catalog
        guard header.count == 100, header.starts(with: Array("SQLite format 3\0".utf8)) else { return "file is not a database" }
        func big(_ offset: Int, _ count: Int) -> Int64 { header[offset..<(offset + count)].reduce(Int64(0)) { $0 << 8 | Int64($1) } }
        let pageSize = big(16, 2) == 1 ? 65_536 : big(16, 2)
        let pages = big(28, 4)
        // The in-header size is valid when its "version valid for" matches the change counter.
        // A checkpoint interrupted by a crash can leave the file short while its write-ahead
        // log still holds the pages: SQLite finishes it, so only a file without a log is judged.
        let log = (try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int ?? 0
        if big(92, 4) == big(24, 4), pages > 0, size < pages * pageSize, log <= 32 {
            return "the file is cut short: \(size) bytes, its header says \(pages) pages of \(pageSize) bytes"
        }
        return nil
    }

    private static func rebuild(root: URL, problem: String, who: String) throws(CatalogError) -> (RecordingStore, CatalogRebuild) {
        let logger = Logger(label: "vigie.recorder")
        let now = Date()
        let path = catalogPath(root)
        // The damaged file and its log, kept aside for forensics.
        let damaged = root.appendingPathComponent("damaged")
        try? FileManager.default.createDirectory(at: damaged, withIntermediateDirectories: true)
        let stamp = SegmentPath.stamp(now)
        var keptAs = "damaged/catalog-\(stamp).sqlite"
        var counter = 1
        while FileManager.default.fileExists(atPath: root.appendingPathComponent(keptAs).path) {
            counter += 1
            keptAs = "damaged/catalog-\(stamp)-\(counter).sqlite"
        }
        let digest = RecordingStore.digest(of: URL(fileURLWithPath: path))
        let exists = FileManager.default.fileExists(atPath: path)
        if exists {
            guard rename(path, root.appendingPathComponent(keptAs).path) == 0 else {
                throw CatalogError("the catalog is damaged (\(problem)) and cannot be moved aside: \(String(cString: strerror(errno)))", kind: .io)
            }
        }
        for suffix in ["-wal", "-shm"] { rename(path + suffix, root.appendingPathComponent(keptAs).path + suffix) }
        // From here until every file is indexed, a restart goes on with the rebuild.
        SmallFile.write("rebuild of \(now)\n", to: root.appendingPathComponent(pendingRebuildFile).path, capacity: 128)
        let formerHead = AuditLog.readHead(path: root.appendingPathComponent("audit.head").path).map { CatalogRebuild.AuditHead(sequence: $0.sequence, hash: $0.hash) }

        // The newest sound backup (two generations are kept); else a new catalog.
        var restoredFrom: Date? = nil
        var problems: [String] = []
        for name in ["catalog.backup.sqlite", "catalog.backup.1.sqlite"] {
            let backup = root.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: backup) else { continue }
            do {
                try SQLiteCatalog.restore(backup: backup, to: path)
                restoredFrom = (try? FileManager.default.attributesOfItem(atPath: backup))?[.modificationDate] as? Date
                break
            } catch {
                problems.append("\(name): \(error.message)")
                for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
            }
        }
        let backupProblem: String? = restoredFrom != nil ? nil : (problems.isEmpty ? "no backup in the storage folder" : problems.joined(separator: "; "))
        let catalog = try SQLiteCatalog(path: path, access: .readWrite)
        let store = try RecordingStore(root: root, catalog: catalog)
        // Holds the damaged file still yields and the surviving catalog lacks: held footage
        // must not follow retention because the catalog broke.
        let salvaged = exists ? salvageHolds(from: root.appendingPathComponent(keptAs).path, into: catalog) : 0

        // Rows of the backup whose file is gone: destroyed after the backup was made.
        var missing = 0
        let files = Set(store.segmentFiles())
        for segment in try catalog.segments(camera: nil, stream: nil, from: nil, to: nil) where segment.state != .open && !files.contains(segment.path) {
            guard let id = try catalog.beginDestruction(
                Destruction(
                    camera: segment.camera, start: segment.start, end: segment.end, bytes: segment.bytes, path: segment.path, destroyedAt: nil,
                    reason: "not found when the catalog was rebuilt on \(now): destroyed after the backup, its register entry was in the damaged catalog"),
                segmentID: segment.id)
            else { continue }
            try catalog.completeDestruction(id: id, segmentID: segment.id, at: now)
            missing += 1
        }
        let known = Set(try catalog.segments(camera: nil, stream: nil, from: nil, to: nil).map(\.path))
        let toIndex = files.subtracting(known).sorted()
        let last = try catalog.auditEntries(camera: nil, since: nil, who: nil).last
        let surviving = last.map { CatalogRebuild.AuditHead(sequence: $0.sequence, hash: $0.hash) }
        let report = CatalogRebuild(
            at: now, problem: problem, keptAs: exists ? keptAs : nil, damagedSHA256: digest?.sha256 ?? "unreadable", damagedBytes: digest?.bytes ?? 0,
            salvagedHolds: salvaged, restoredFrom: restoredFrom, backupProblem: backupProblem, formerHead: formerHead, survivingHead: surviving,
            filesToIndex: toIndex, missingFiles: missing)
        // The chain goes on from what survived (or starts again); its first new entry says what was lost.
        store.audit.resetHead(sequence: surviving?.sequence ?? 0, hash: surviving?.hash ?? AuditEntry.genesis)
        store.audit.record(OperatorEvent(who: who, action: .catalogRebuilt, detail: report.description))
        logger.critical("\(report)")
        return (store, report)
    }
}

extension RecordingStore {
    /// Present while a rebuilt catalog's files are not all indexed yet.
    static let pendingRebuildFile = "rebuild.pending"

    /// Whether any camera folder holds a segment file (stops at the first).
    static func hasFootage(_ root: URL) -> Bool {
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return false }
        while let path = walker.nextObject() as? String {
            if path.hasPrefix("quarantine") || path.hasPrefix("damaged") { walker.skipDescendants(); continue }
            if path.hasSuffix(".ts") { return true }
        }
        return false
    }

    /// Holds of the damaged file (read without its log) that `catalog` lacks, copied in.
    static func salvageHolds(from damaged: String, into catalog: SQLiteCatalog) -> Int {
        guard let old = try? SQLiteCatalog(path: damaged, access: .readOnly), let holds = try? old.holds(includeReleased: true),
            let kept = try? catalog.holds(includeReleased: true)
        else { return 0 }
        var added = 0
        for hold in holds
        where !kept.contains(where: { $0.reference == hold.reference && $0.createdAt == hold.createdAt && $0.cameras == hold.cameras }) {
            if (try? catalog.addHold(hold)) != nil {
                if let released = hold.releasedAt, let stored = try? catalog.holds(includeReleased: true).last {
                    _ = try? catalog.releaseHold(id: stored.id, by: hold.releasedBy ?? "?", at: released)
                }
                added += 1
            }
        }
        // The requisitions and the transmission register since the backup, too.
        if let requisitions = try? old.requisitions(), let known = try? catalog.requisitions().map(\.number) {
            for requisition in requisitions where !known.contains(requisition.number) {
                _ = try? catalog.insertRequisitionRow(requisition)
            }
        }
        if let transmissions = try? old.transmissions(requisition: nil), let known = try? catalog.transmissions(requisition: nil) {
            for transmission in transmissions where !known.contains(where: { $0.at == transmission.at && $0.requisition == transmission.requisition }) {
                _ = try? catalog.addTransmission(transmission)
            }
        }
        return added
    }

    /// A rebuild cut short goes on: the files the catalog does not know are its files.
    static func resumedRebuild(store: RecordingStore, note: String) throws(CatalogError) -> CatalogRebuild {
        var toIndex: [String] = []
        for camera in store.cameraFolders() {
            let known = try store.catalog.segmentPaths(camera: camera)
            toIndex += store.segmentFiles(camera: camera).filter { !known.contains($0) }
        }
        let last = try store.catalog.auditEntries(camera: nil, since: nil, who: nil).last
        let head = last.map { CatalogRebuild.AuditHead(sequence: $0.sequence, hash: $0.hash) }
        Logger(label: "vigie.recorder").warning("catalog rebuild cut short (\(note)): \(toIndex.count) footage file(s) left to index")
        return CatalogRebuild(
            at: Date(), problem: "a rebuild cut short (\(note)) goes on", keptAs: nil, damagedSHA256: "-", damagedBytes: 0, salvagedHolds: 0,
            restoredFrom: nil, backupProblem: nil, formerHead: head, survivingHead: head, filesToIndex: toIndex, missingFiles: 0, resumed: true)
    }
}

extension Recorder {
    /// A footage file's row from its name and a quick read of its head and tail.
    private func quickRow(_ path: String) -> (record: SegmentRecord, scan: TransportStreamScan)? {
        guard let named = SegmentPath.parse(path),
            let scan = try? TransportStreamScan.quick(path: store.root.appendingPathComponent(path).path), scan.firstPTS != nil
        else { return nil }
        let record = SegmentRecord(
            camera: named.camera, path: path, start: named.start, end: named.start.addingTimeInterval(scan.duration), bytes: scan.bytes,
            sha256: nil, keyframes: [], state: .rebuilt, stream: named.stream)
        return (record, scan)
    }

    /// Two footage files of a camera follow each other when the second's first picture comes
    /// one picture after the first's last, by their own timestamps, and their names agree.
    private static func follows(_ earlier: TransportStreamScan, then later: TransportStreamScan) -> Bool {
        guard let last = earlier.lastPTS, let first = later.firstPTS else { return false }
        let step = TransportStreamScan.ticks(from: last, to: first)
        return abs(step - earlier.frameTicks) <= 2 * max(earlier.frameTicks, 1)
    }

    /// The most files of a camera indexed before its recorder starts (two hours of minutes):
    /// those after the last segment the surviving catalog knows.
    static let recentFilesLimit = 120

    /// Before each camera's recorder starts, so that the time from its old footage to its new
    /// recording is exactly one gap: the files after the last segment the surviving catalog
    /// (the backup) knows, each placed from the end of the one before it when their
    /// timestamps follow (so their times are as exact as the backup's), or, without such a
    /// segment, the newest file from its name. Returns the paths indexed.
    func indexRecentFiles(of rebuild: CatalogRebuild) -> Set<String> {
        var byStream: [StreamKey: [String]] = [:]
        for path in rebuild.filesToIndex { if let named = SegmentPath.parse(path) { byStream[StreamKey(named), default: []].append(path) } }
        var indexed = Set<String>()
        if rebuild.resumed { return indexed }  // each camera's newest footage is in the catalog already
        var rows: [SegmentRecord] = []
        for (key, unsorted) in byStream.sorted(by: { $0.key < $1.key }) {
            let paths = unsorted.sorted()
            let known = try? store.catalog.segment(camera: key.camera, stream: key.stream, before: .distantFuture)
            var previous: (end: Date, scan: TransportStreamScan)? = nil
            var recent = [paths.last!]
            if let known, let scan = try? TransportStreamScan.quick(path: store.url(of: known).path) {
                let after = paths.filter { path in SegmentPath.parse(path).map { $0.start >= known.start.addingTimeInterval(-1) } ?? false }
                if !after.isEmpty && after.count <= Recorder.recentFilesLimit {
                    recent = after
                    previous = (known.end, scan)
                }
            }
            for path in recent {
                guard let row = quickRow(path), let first = row.scan.firstPTS else { continue }
                var record = row.record
                if let before = previous, Recorder.follows(before.scan, then: row.scan),
                    abs(record.start.timeIntervalSince(before.end)) < 2
                {
                    record.start = before.end
                    record.end = before.end.addingTimeInterval(row.scan.duration)
                } else if let before = previous, record.start < before.end, before.end < record.end {
                    record.start = before.end  // names say the second, not the fraction: no overlap
                }
                rows.append(record)
                indexed.insert(path)
                _ = first
                previous = (record.end, row.scan)
            }
        }
        do {
            try store.catalog.insertSegments(rows)
        } catch {
            catalogFailed(error, "catalog rebuild: cannot index the newest files")
        }
        return indexed
    }

    /// The rebuild's background work, after recording started: every other footage file
    /// indexed from its name and a quick read (camera by camera, newest first, each segment
    /// placed against the one after it when their timestamps follow each other), gaps of
    /// unknown cause where nothing explains a hole, then every file read whole to hash it and
    /// index its keyframes. Retention waits for the first part.
    func indexRebuiltFiles(_ rebuild: CatalogRebuild) {
        let started = MonotonicClock.seconds()
        let recordingStart = rebuild.at
        var foreign: [String] = []
        let total = rebuild.filesToIndex.count
        var done = total - pendingFiles.count
        var gapsAdded = 0
        storage.withLock { $0.indexing = (done, total, 0) }
        for key in pendingFiles.streams {
            if stopping.load(ordering: .acquiring) { break }
            let paths = pendingFiles.take(key)
            // Newest first, each placed against the row after it (from the catalog at first).
            var next: (start: Date, firstPTS: Int64)? = nil
            if let newest = paths.last.flatMap(SegmentPath.parse),
                let after = try? store.catalog.segment(camera: key.camera, stream: key.stream, containingOrAfter: newest.start.addingTimeInterval(0.5)),
                let scan = try? TransportStreamScan.quick(path: store.url(of: after).path), let first = scan.firstPTS
            {
                next = (after.start, first)
            }
            var rows: [SegmentRecord] = []
            for path in paths.reversed() {
                if stopping.load(ordering: .acquiring) {
                    pendingFiles.putBack(key, paths: paths)  // the next start goes on (see rebuild.pending)
                    break
                }
                guard let row = quickRow(path), let first = row.scan.firstPTS, let lastPTS = row.scan.lastPTS else {
                    foreign.append(path)
                    continue
                }
                var record = row.record
                let duration = row.scan.duration
                if let following = next, following.start > record.start {
                    let step = TransportStreamScan.ticks(from: lastPTS, to: following.firstPTS)
                    let follows = abs(step - row.scan.frameTicks) <= 2 * max(row.scan.frameTicks, 1)
                    if follows && abs(record.start.addingTimeInterval(duration).timeIntervalSince(following.start)) < 2 {
                        record.end = following.start
                        record.start = following.start.addingTimeInterval(-duration)
                    } else if record.end > following.start {
                        record.end = following.start  // names say the second, not the fraction: no overlap
                    }
                }
                rows.append(record)
                next = (record.start, first)
                if rows.count >= 500 {
                    insert(&rows)
                }
                done += 1
                if done % 200 == 0 { storage.withLock { $0.indexing = (done, total, 0) } }
            }
            insert(&rows)
            gapsAdded += fillUnknownGaps(key, before: recordingStart, rebuiltAt: rebuild.at)
        }
        for path in foreign {
            if let movedTo = try? store.quarantine(path) {
                logger.error("catalog rebuild: \(path) is not a segment the recorder wrote (name or content); kept apart as \(movedTo)")
            }
        }
        if stopping.load(ordering: .acquiring) && pendingFiles.count > 0 {
            logger.warning("catalog rebuild stopped with \(pendingFiles.count) footage file(s) still to index: the next start goes on with them")
            return
        }
        unlink(store.root.appendingPathComponent(RecordingStore.pendingRebuildFile).path)
        let indexSeconds = MonotonicClock.seconds() - started
        let message = String(
            format: "catalog rebuild: %d footage file(s) indexed in %.1f s, %d gap(s) of unknown cause added; hashing them in the background", total,
            indexSeconds, gapsAdded)
        logger.warning("\(message)")
        store.audit.record(OperatorEvent(who: who, action: .catalogRebuilt, detail: message))
        indexingDone.store(true, ordering: .releasing)
        hashRebuiltSegments(total: total)
    }

    /// Reads whole every file a rebuild indexed from its head and tail: its hash and its
    /// keyframes (resumed at the next start when stopped).
    func hashRebuiltSegments(total: Int) {
        let hashStart = MonotonicClock.seconds()
        var hashed = 0
        var bytes: Int64 = 0
        while !stopping.load(ordering: .acquiring) {
            guard let batch = try? store.catalog.segmentsToIndex(limit: 50), !batch.isEmpty else { break }
            for var segment in batch {
                if stopping.load(ordering: .acquiring) { break }
                guard let scan = try? TransportStreamScan.full(path: store.url(of: segment).path) else {
                    segment.sha256 = "unreadable"
                    try? store.catalog.updateSegment(segment)
                    continue
                }
                segment.sha256 = scan.sha256
                segment.bytes = scan.bytes
                segment.keyframes = scan.keyframes
                do { try store.catalog.updateSegment(segment) } catch { catalogFailed(error, "catalog rebuild: cannot update \(segment.path)") }
                hashed += 1
                bytes += scan.bytes
            }
            storage.withLock { $0.indexing = (total, total, hashed) }
        }
        let seconds = MonotonicClock.seconds() - hashStart
        if !stopping.load(ordering: .acquiring) {
            logger.notice(
                "\(String(format: "catalog rebuild: %d file(s) hashed and their keyframes indexed in %.1f s (%.0f MB/s)", hashed, seconds, Double(bytes) / 1e6 / max(seconds, 0.001)))")
            storage.withLock { $0.indexing = nil }
        }
    }

    private func insert(_ rows: inout [SegmentRecord]) {
        guard !rows.isEmpty else { return }
        do { try store.catalog.insertSegments(rows) } catch { catalogFailed(error, "catalog rebuild: cannot index \(rows.count) file(s)") }
        rows.removeAll(keepingCapacity: true)
    }

    /// Holes in a camera's time before the rebuild that no gap or destruction explains: the
    /// damaged catalog knew why; the rebuilt one says it does not.
    private func fillUnknownGaps(_ key: StreamKey, before limit: Date, rebuiltAt: Date) -> Int {
        let camera = key.camera
        guard let segments = try? store.catalog.segments(camera: camera, stream: key.stream, from: nil, to: limit),
            let gaps = try? store.catalog.gaps(camera: camera, stream: key.stream, from: .distantPast, to: limit),
            let destructions = try? store.catalog.destructions(camera: camera, since: nil)
        else { return 0 }
        var items: [(start: Date, end: Date)] = segments.map { ($0.start, $0.end) } + gaps.map { ($0.start, $0.end) }
        items += destructions.filter { $0.destroyedAt != nil && $0.start < limit && $0.stream == key.stream }.map { ($0.start, $0.end) }
        items.sort { $0.start < $1.start }
        guard var covered = items.first?.end else { return 0 }
        var added = 0
        for item in items.dropFirst() {
            if item.start.timeIntervalSince(covered) > Recorder.tilingTolerance {
                let reason = "unknown: the catalog was rebuilt on \(rebuiltAt) from the footage files; what happened here was only in the damaged catalog"
                if (try? store.catalog.addGap(GapRecord(camera: camera, start: covered, end: item.start, reason: reason, stream: key.stream))) != nil { added += 1 }
            }
            covered = max(covered, item.end)
        }
        return added
    }
}

/// One stream of one camera: what tiles time in the catalog.
struct StreamKey: Hashable, Comparable, Sendable {
    var camera: String
    var stream: StreamChoice
    init(camera: String, stream: StreamChoice) {
        self.camera = camera
        self.stream = stream
    }
    init(_ named: (camera: String, start: Date, stream: StreamChoice)) { self.init(camera: named.camera, stream: named.stream) }
    static func < (a: StreamKey, b: StreamKey) -> Bool { (a.camera, a.stream.rawValue) < (b.camera, b.stream.rawValue) }
}

extension Destruction {
    /// The stream whose footage it destroyed (from its file's name).
    var stream: StreamChoice { SegmentPath.parse(path)?.stream ?? .main }
}

/// The footage files a rebuild has still to index, per camera stream, oldest first. The
/// rebuild takes a stream's at a time; the storage guard may take the oldest of all first, to
/// destroy it when the disk is full (old footage goes first even before it is indexed).
final class PendingFiles: Sendable {
    private let files = Mutex<[StreamKey: [(path: String, start: Date)]]>([:])

    func fill(_ paths: [String]) {
        var byStream: [StreamKey: [(path: String, start: Date)]] = [:]
        for path in paths { if let named = SegmentPath.parse(path) { byStream[StreamKey(named), default: []].append((path, named.start)) } }
        files.withLock { $0 = byStream.mapValues { $0.sorted { $0.path < $1.path } } }
    }

    var count: Int { files.withLock { $0.values.reduce(0) { $0 + $1.count } } }
    var streams: [StreamKey] { files.withLock { $0.keys.sorted() } }

    /// Every file left of a camera stream, oldest first, no longer pending.
    func take(_ key: StreamKey) -> [String] { files.withLock { $0.removeValue(forKey: key)?.map(\.path) ?? [] } }

    func putBack(_ key: StreamKey, paths: [String]) {
        let entries = paths.compactMap { path in SegmentPath.parse(path).map { (path, $0.start) } }
        files.withLock { $0[key, default: []] = ($0[key, default: []] + entries).sorted { $0.path < $1.path } }
    }

    /// The oldest file of all when it starts before `limit`, no longer pending.
    func takeOldest(before limit: Date?) -> (key: StreamKey, path: String, start: Date)? {
        files.withLock { files in
            guard let (key, list) = files.min(by: { ($0.value.first?.start ?? .distantFuture) < ($1.value.first?.start ?? .distantFuture) }),
                let first = list.first, limit.map({ first.start < $0 }) ?? true
            else { return nil }
            files[key]?.removeFirst()
            return (key, first.path, first.start)
        }
    }
}
