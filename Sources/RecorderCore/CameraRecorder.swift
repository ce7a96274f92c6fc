public import Foundation
import Logging
import Media
import Synchronization

/// What the recorder says of one camera (`vigie recorder status`).
public struct CameraRecordingStatus: Sendable {
    public let cameraID: String
    public let recording: Bool
    public let segmentPath: String?
    public let segmentStart: Date?
    public let segmentsWritten: Int
    public let bytesWritten: Int64
    public let packetsDropped: Int
    public let lastError: String?
    /// Why the camera is not being recorded, when it is not (signal lost, paused...).
    public let interruption: String?
}

/// What the storage guard tells every camera recorder, and what they tell it back: whether
/// recording is paused (only held footage is left on a full disk), the size past which
/// segments are cut, the bytes written (the write rate the guard plans with), and a request
/// for an immediate pass when a write failed.
public final class StorageGate: Sendable {
    private let paused = Atomic<Bool>(false)
    private let byteLimit = Atomic<Int64>(Int64.max)
    private let written = Atomic<Int64>(0)
    private let urgent = DispatchSemaphore(value: 0)

    public init() {}

    public var isPaused: Bool { paused.load(ordering: .acquiring) }
    func setPaused(_ value: Bool) { paused.store(value, ordering: .releasing) }

    public var segmentByteLimit: Int64 { byteLimit.load(ordering: .relaxed) }
    func setSegmentByteLimit(_ value: Int64) { byteLimit.store(value, ordering: .relaxed) }

    /// Bytes handed to segment files since the start.
    public var bytesWritten: Int64 { written.load(ordering: .relaxed) }
    func wrote(_ bytes: Int) { written.add(Int64(bytes), ordering: .relaxed) }

    private let damaged = Mutex<String?>(nil)
    /// The catalog answered that its file is damaged.
    public var catalogDamaged: Bool { damaged.withLock { $0 != nil } }
    /// What it answered.
    public var damage: String? { damaged.withLock { $0 } }
    func reportDamage(_ problem: String) { damaged.withLock { if $0 == nil { $0 = problem } } }

    /// A write failed (the disk is full): the guard runs at once.
    func requestPass() { urgent.signal() }
    /// Waits up to `seconds` for a request; true when one came.
    func waitForRequest(seconds: Double) -> Bool { urgent.wait(timeout: .now() + seconds) == .success }
}

/// Records one camera's main stream: stream copy into MPEG-TS segments of about
/// `segmentSeconds`, cut on keyframes, each indexed in the catalog as it is written.
///
/// Runs on its own thread, fed by a bounded packet subscription (a slow disk drops the
/// oldest packets, counted, and never stalls the camera's receive thread).
///
/// What the catalog says of the camera tiles time exactly: each segment starts where the
/// one before it ended when the stream ran on, and any time not recorded (the recorder
/// stopped, the signal lost, recording paused, a write refused) is a gap row from the end
/// of the last segment to the start of the next, with its reason, also when the recorder
/// stops in the middle of it.
///
/// Times: a segment's start is the recorder's clock when its first packet arrived, corrected to the
/// earliest (arrival - elapsed stream time) seen in the segment, so a burst of buffered
/// packets on connect does not shift it (never before the end of what precedes it); its end
/// is its clock anchor plus the stream time it covers. The skew noted is the recorder's clock
/// at the last packet minus that end.
final class CameraRecorder: @unchecked Sendable {  // mutable state is the recorder thread's own; `shared` is locked
    let cameraID: String
    private let feed: LiveFeed
    private let store: RecordingStore
    private let gate: StorageGate
    private let segmentSeconds: Double
    private let progressSeconds: Double
    /// Time between batches of packets (the queue holds 120 s at 25 fps).
    private let batchSeconds = 0.2
    private let logger: Logger
    private let stopFlag = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private let clock: @Sendable () -> Date

    static let notRunning = "recorder not running"

    private struct Shared {
        var segment: SegmentRecord?
        var segments = 0
        var bytes: Int64 = 0
        var lastError: String?
        var dropped = 0
        var interruption: String?
    }
    private let shared = Mutex(Shared())

    /// The segment being written and what is known of its timing.
    private struct Open {
        var record: SegmentRecord
        let writer: StreamCopyWriter
        let firstPTS: Double
        var lastPTS: Double
        var lastDuration: Double
        var anchor: Double  // seconds since 1970 of the first packet's capture (earliest estimate)
        var lastArrival: Double
        var lastProgress: Double
        var lastFlush: Double
        /// Set when the segment continues the one before it: its start is that one's end.
        let fixedStart: Date?
        /// The end of what precedes it (its start never comes before).
        let lowerBound: Date?
        /// The gap row in front of it, whose end follows its start.
        var gap: (id: Int64, start: Date, end: Date)?
    }

    init(
        cameraID: String, feed: LiveFeed, store: RecordingStore, gate: StorageGate, segmentSeconds: Double, progressSeconds: Double = 5,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.cameraID = cameraID
        self.feed = feed
        self.store = store
        self.gate = gate
        self.segmentSeconds = segmentSeconds
        self.progressSeconds = progressSeconds
        self.clock = clock
        logger = Logger(label: "vigie.record.\(cameraID)")
    }

    func start() {
        let thread = Thread { [self] in
            run()
            done.signal()
        }
        thread.name = "record \(cameraID)"
        thread.stackSize = 512 * 1024
        thread.start()
    }

    /// Asks the thread to close its segment and stop (see `wait`).
    func requestStop() { stopFlag.store(true, ordering: .releasing) }

    func wait(timeout: Double) -> Bool { done.wait(timeout: .now() + timeout) == .success }

    var status: CameraRecordingStatus {
        shared.withLock {
            CameraRecordingStatus(
                cameraID: cameraID, recording: $0.segment != nil, segmentPath: $0.segment?.path, segmentStart: $0.segment?.start,
                segmentsWritten: $0.segments, bytesWritten: $0.bytes, packetsDropped: $0.dropped, lastError: $0.lastError,
                interruption: $0.segment == nil ? $0.interruption : nil)
        }
    }

    // MARK: Coverage: what the catalog says of the camera, tiled

    /// The end of what the catalog says of the camera (a segment's end or a gap's).
    private var coveredUntil: Date?
    /// Why the camera is not being recorded now; nil while a stream runs on.
    private var interruption: String?
    private var startedAt = Date()

    /// Something stopped the recording (or kept it from starting) at `time`, for `reason`.
    /// The first reason stands until recording resumes, except that the time before this
    /// recorder started is the recorder's own absence, a gap of its own.
    private func interrupted(_ reason: String) {
        if interruption == CameraRecorder.notRunning && reason != CameraRecorder.notRunning, let covered = coveredUntil,
            startedAt.timeIntervalSince(covered) > 0
        {
            writeGap(from: covered, to: startedAt, reason: CameraRecorder.notRunning)
            coveredUntil = startedAt
            interruption = reason
        } else if interruption == nil || interruption == CameraRecorder.notRunning {
            interruption = reason
        }
        shared.withLock { $0.interruption = interruption }
    }

    @discardableResult
    private func writeGap(from start: Date, to end: Date, reason: String) -> Int64? {
        guard end > start else { return nil }
        do {
            return try store.catalog.addGap(GapRecord(camera: cameraID, start: start, end: end, reason: reason))
        } catch {
            note(error, "catalog refused a gap row")
            return nil
        }
    }

    private func note(_ error: any Error, _ what: String) {
        logger.error("\(cameraID): \(what): \(error)")
        if let catalog = error as? CatalogError, catalog.kind == .damaged { gate.reportDamage(catalog.message) }
        shared.withLock { $0.lastError = "\(what): \(error)" }
    }

    private func run() {
        let subscription = feed.subscribePackets(capacity: 3000)
        feed.setKeepRunning(true)
        defer {
            subscription.cancel()
            feed.setKeepRunning(false)
        }
        startedAt = clock()
        do {
            coveredUntil = try store.catalog.lastCovered(camera: cameraID)
        } catch {
            note(error, "cannot read the catalog")
        }
        if let covered = coveredUntil, covered < startedAt { interruption = CameraRecorder.notRunning } else { interruption = "connecting" }
        shared.withLock { $0.interruption = interruption }
        var open: Open? = nil
        var info: StreamInfo? = nil
        var waitingForKeyframe = true

        while !stopFlag.load(ordering: .acquiring) {
            // Paused by the storage guard: what is open closes, nothing new starts.
            if gate.isPaused {
                if let current = open {
                    close(current)
                    open = nil
                }
                interrupted("recording paused: storage full, only held footage left")
                waitingForKeyframe = true
            }
            // Packets are taken in batches a fifth of a second apart: 5 wake-ups a second, not 25.
            let batch = subscription.takeAll(timeout: 0.25)
            if batch.isEmpty {
                if let current = open, MonotonicClock.seconds() - current.lastProgress >= progressSeconds {
                    open = progress(current)
                }
                continue
            }
            for event in batch {
                switch event {
                case .streamStarted(let started):
                    if let current = open {
                        close(current)
                        interrupted("stream restarted")
                    }
                    open = nil
                    info = started
                    waitingForKeyframe = true
                case .streamLost(_, let reason):
                    if let current = open { close(current) }
                    interrupted("signal lost: \(reason)")
                    open = nil
                    waitingForKeyframe = true
                case .packet(let packet, let receivedAt):
                    guard let info, let pts = packet.pts.map({ packet.timeBase.seconds($0) }) else { continue }
                    if gate.isPaused { continue }
                    if waitingForKeyframe {
                        guard packet.isKeyframe else { continue }
                        waitingForKeyframe = false
                    }
                    let arrival = receivedAt
                    let duration = packet.duration > 0 ? packet.timeBase.seconds(packet.duration) : 1 / (info.framesPerSecond ?? 25)
                    if var current = open {
                        let elapsed = pts - current.firstPTS
                        // The stream's clock jumped (a camera resetting its timestamps): start afresh.
                        let jumped = elapsed < current.lastPTS - current.firstPTS - 1 || abs((arrival - current.anchor) - elapsed) > 30
                        let long = elapsed >= segmentSeconds || (current.writer.position >= gate.segmentByteLimit && elapsed >= 1)
                        if jumped || (packet.isKeyframe && long) {
                            close(current)
                            open = nil
                            if jumped {
                                interrupted("stream timestamps jumped")
                                if !packet.isKeyframe {
                                    waitingForKeyframe = true
                                    continue
                                }
                            }
                        } else {
                            current.anchor = min(current.anchor, arrival - elapsed)
                            current.lastPTS = max(current.lastPTS, pts)
                            current.lastDuration = duration
                            current.lastArrival = arrival
                            if packet.isKeyframe {
                                current.record.keyframes.append(KeyframeMark(offset: elapsed, byte: current.writer.position))
                            }
                            if !write(packet, to: current.writer) {
                                fail(current)
                                open = nil
                                waitingForKeyframe = true
                                continue
                            }
                            open = current
                            let now = MonotonicClock.seconds()
                            if now - current.lastProgress >= progressSeconds {
                                open = progress(current)
                            } else if now - current.lastFlush >= 1 {
                                // At most about a second of footage is only in memory.
                                do {
                                    try current.writer.flush()
                                    current.lastFlush = now
                                    open = current
                                } catch {
                                    note(error, "cannot write \(current.record.path)")
                                    fail(current)
                                    open = nil
                                    waitingForKeyframe = true
                                }
                            }
                            continue
                        }
                    }
                    // A keyframe starts a new segment.
                    guard packet.isKeyframe else { continue }
                    if var started = begin(info: info, pts: pts, arrival: arrival, duration: duration) {
                        started.record.keyframes.append(KeyframeMark(offset: 0, byte: started.writer.position))
                        if write(packet, to: started.writer) {
                            open = started
                        } else {
                            fail(started)
                            waitingForKeyframe = true
                        }
                    } else {
                        waitingForKeyframe = true
                    }
                }
            }
            if !stopFlag.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: batchSeconds) }
            shared.withLock { $0.dropped = subscription.droppedCount }
        }
        if let current = open {
            // Packets still queued are not written: the time from the last one to the stop is said.
            let closed = close(current)
            let now = clock()
            // A camera silent for a while before the stop had lost its signal, even if the read had not timed out yet.
            let silence = now.timeIntervalSince1970 - current.lastArrival
            let reason = silence > 2 ? "signal lost: no picture in the \(Int(silence)) s before the recorder stopped" : "recorder stopping"
            if now.timeIntervalSince(closed.end) >= 1 { writeGap(from: closed.end, to: now, reason: reason) }
        } else if let reason = interruption, let covered = coveredUntil {
            // Stopped while not recording: the time since the last segment is a gap, with its reason.
            let now = clock()
            if interruption == CameraRecorder.notRunning {
                writeGap(from: covered, to: startedAt, reason: CameraRecorder.notRunning)
                writeGap(from: max(covered, startedAt), to: now, reason: "connecting")
            } else {
                writeGap(from: covered, to: now, reason: reason)
            }
        }
    }

    private func write(_ packet: Packet, to writer: StreamCopyWriter) -> Bool {
        do {
            try writer.write(packet)
            gate.wrote(packet.size)
            return true
        } catch {
            note(error, "cannot write \(writer.path)")
            return false
        }
    }

    /// Opens a segment: the catalog's row first (state open), then the file. When recording
    /// resumes after an interruption, the gap row in front of it comes first.
    private func begin(info: StreamInfo, pts: Double, arrival: Double, duration: Double) -> Open? {
        let wallStart = Date(timeIntervalSince1970: arrival)
        var fixedStart: Date? = nil
        var lowerBound: Date? = nil
        var gap: (id: Int64, start: Date, end: Date)? = nil
        if let covered = coveredUntil, covered <= wallStart.addingTimeInterval(1) {
            // (Footage "after" now means the clock went back: times are left as the clock says.)
            if interruption == nil && abs(wallStart.timeIntervalSince(covered)) < 1 {
                fixedStart = covered  // the stream ran on: this segment continues the last one
                lowerBound = nil
            } else {
                var reason = interruption ?? "no pictures"
                var gapStart = covered
                if interruption == CameraRecorder.notRunning && wallStart.timeIntervalSince(startedAt) > 5 {
                    // The recorder ran a while before the first picture: two gaps, two reasons.
                    writeGap(from: covered, to: startedAt, reason: CameraRecorder.notRunning)
                    gapStart = startedAt
                    reason = "connecting"
                }
                if let id = writeGap(from: gapStart, to: max(wallStart, gapStart), reason: reason) {
                    gap = (id, gapStart, max(wallStart, gapStart))
                }
                lowerBound = gapStart
            }
        }
        let start = fixedStart ?? max(wallStart, lowerBound ?? wallStart)
        let path = store.newSegmentPath(camera: cameraID, start: start)
        var record = SegmentRecord(camera: cameraID, path: path, start: start, end: start)
        do {
            record.id = try store.catalog.insertSegment(record)
        } catch {
            note(error, "catalog refused a new segment")
            if let gap { try? store.catalog.removeGap(id: gap.id) }
            gate.requestPass()
            return nil
        }
        interruption = nil
        shared.withLock { $0.interruption = nil }
        do {
            let writer = try StreamCopyWriter(path: store.root.appendingPathComponent(path).path, formatName: "mpegts", streams: [(info.parameters, info.timeBase)])
            shared.withLock { $0.segment = record }
            coveredUntil = start
            return Open(
                record: record, writer: writer, firstPTS: pts, lastPTS: pts, lastDuration: duration, anchor: arrival,
                lastArrival: arrival, lastProgress: MonotonicClock.seconds(), lastFlush: MonotonicClock.seconds(), fixedStart: fixedStart,
                lowerBound: lowerBound, gap: gap)
        } catch {
            note(error, "cannot create \(path)")
            try? store.catalog.removeSegment(id: record.id)
            if let gap { try? store.catalog.removeGap(id: gap.id) }
            interrupted("cannot write to the storage: \(error.message)")
            gate.requestPass()
            return nil
        }
    }

    /// The segment's times as known now.
    private func timed(_ current: Open) -> SegmentRecord {
        var record = current.record
        let span = (current.lastPTS - current.firstPTS) + current.lastDuration
        var start = Date(timeIntervalSince1970: current.anchor)
        if let fixed = current.fixedStart { start = fixed } else if let bound = current.lowerBound, start < bound { start = bound }
        // The recorder's clock places the end; the stream's length bounds it (camera drift is ppm).
        let wallEnd = current.anchor + span
        let streamEnd = start.timeIntervalSince1970 + span
        record.start = start
        record.end = Date(timeIntervalSince1970: min(max(wallEnd, streamEnd - 0.5), streamEnd + 0.5))
        record.skew = current.lastArrival - wallEnd
        return record
    }

    /// Keeps the gap row in front of a segment ending where the segment starts.
    private func followGap(_ current: inout Open, start: Date) {
        guard let gap = current.gap, gap.end != start else { return }
        do {
            if start.timeIntervalSince(gap.start) < 0.000_5 {
                try store.catalog.removeGap(id: gap.id)
                current.gap = nil
            } else {
                try store.catalog.updateGap(id: gap.id, end: start)
                current.gap = (gap.id, gap.start, start)
            }
        } catch {
            note(error, "catalog refused a gap's end")
        }
    }

    /// Pushes the file's bytes to the kernel and the segment's progress to the catalog, so
    /// a crash loses only the last seconds.
    private func progress(_ current: Open) -> Open {
        var updated = current
        do {
            try current.writer.flush()
        } catch {
            note(error, "cannot write \(current.record.path)")
        }
        var record = timed(current)
        record.bytes = current.writer.position
        followGap(&updated, start: record.start)
        do {
            try store.catalog.updateSegment(record)
        } catch {
            note(error, "catalog refused the progress of \(record.path)")
        }
        updated.lastProgress = MonotonicClock.seconds()
        updated.lastFlush = updated.lastProgress
        return updated
    }

    /// Closes the file, hashes it and writes its final row; returns it.
    @discardableResult
    private func close(_ current: Open) -> SegmentRecord {
        var failed = false
        do {
            try current.writer.close()
        } catch {
            note(error, "closing \(current.writer.path)")
            failed = true
        }
        var record = timed(current)
        record.state = .closed
        if failed, let truth = try? TransportStreamScan.full(path: store.url(of: record).path), truth.firstPTS != nil {
            // The disk refused the last bytes: the row says what the file holds, not what was sent.
            record.end = record.start.addingTimeInterval(truth.duration)
            record.keyframes = truth.keyframes
        }
        if let digest = RecordingStore.digest(of: store.url(of: record)) {
            record.sha256 = digest.sha256
            record.bytes = digest.bytes
        }
        var updated = current
        followGap(&updated, start: record.start)
        do {
            try store.catalog.updateSegment(record)
        } catch {
            note(error, "catalog update of \(record.path) failed")
        }
        coveredUntil = record.end
        shared.withLock {
            $0.segment = nil
            $0.segments += 1
            $0.bytes += record.bytes
        }
        return record
    }

    /// A write to the segment failed (the disk is full): it is closed with what its file
    /// really holds, the guard is asked for room at once, recording resumes at the next keyframe.
    private func fail(_ current: Open) {
        let record = current.record
        do {
            try current.writer.close()
        } catch {
            // Expected: the same full disk refuses the last bytes.
        }
        var truth = timed(current)
        truth.state = .closed
        let url = store.url(of: record)
        if let scan = try? TransportStreamScan.full(path: url.path), scan.firstPTS != nil {
            truth.end = truth.start.addingTimeInterval(scan.duration)
            truth.keyframes = scan.keyframes
            truth.bytes = scan.bytes
            truth.sha256 = scan.sha256
            var updated = current
            followGap(&updated, start: truth.start)
            do {
                try store.catalog.updateSegment(truth)
            } catch {
                note(error, "catalog update of \(record.path) failed")
            }
            coveredUntil = truth.end
            shared.withLock {
                $0.segment = nil
                $0.segments += 1
                $0.bytes += truth.bytes
            }
        } else {
            // Nothing readable reached the disk: no segment.
            unlink(url.path)
            try? store.catalog.removeSegment(id: record.id)
            if let gap = current.gap { try? store.catalog.removeGap(id: gap.id) }
            if let gap = current.gap { coveredUntil = gap.start } else if let bound = current.lowerBound { coveredUntil = bound }
            shared.withLock { $0.segment = nil }
        }
        interrupted("cannot write to the storage (disk full)")
        gate.requestPass()
    }
}
