public import Foundation
import Logging
import Media
import Synchronization

/// What the recorder says of one camera (`vigie recorder status`).
public struct CameraRecordingStatus: Sendable {
    public let cameraID: String
    public let stream: StreamChoice
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

    private let stopTime = Mutex<Date?>(nil)
    /// When the recorder was asked to stop: every camera's record ends there.
    public var stopRequestedAt: Date? { stopTime.withLock { $0 } }
    func stopRequested(at time: Date) { stopTime.withLock { $0 = $0 ?? time } }

    /// A write failed (the disk is full): the guard runs at once.
    func requestPass() { urgent.signal() }
    /// Waits up to `seconds` for a request; true when one came.
    func waitForRequest(seconds: Double) -> Bool { urgent.wait(timeout: .now() + seconds) == .success }
}

/// Records one stream of a camera (its main stream; its sub stream too where the site records
/// it): stream copy into MPEG-TS segments of about
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
    let stream: StreamChoice
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
        /// The end of the segment before it (its start never comes before).
        let lowerBound: Date?
        /// The gap rows between the last segment and this one; they end where it starts (a
        /// camera's buffered pictures on connect may start it before the recorder did).
        var gaps: [(id: Int64, start: Date)]
    }

    init(
        cameraID: String, stream: StreamChoice = .main, feed: LiveFeed, store: RecordingStore, gate: StorageGate, segmentSeconds: Double,
        progressSeconds: Double = 5, clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.cameraID = cameraID
        self.stream = stream
        self.feed = feed
        self.store = store
        self.gate = gate
        self.segmentSeconds = segmentSeconds
        self.progressSeconds = progressSeconds
        self.clock = clock
        logger = Logger(label: stream == .main ? "vigie.record.\(cameraID)" : "vigie.record.\(cameraID).sub")
    }

    func start() {
        let thread = Thread { [self] in
            run()
            done.signal()
        }
        thread.name = stream == .main ? "record \(cameraID)" : "record \(cameraID) sub"
        thread.stackSize = 512 * 1024
        thread.start()
    }

    /// Asks the thread to close its segment and stop (see `wait`).
    func requestStop() { stopFlag.store(true, ordering: .releasing) }

    func wait(timeout: Double) -> Bool { done.wait(timeout: .now() + timeout) == .success }

    var status: CameraRecordingStatus {
        shared.withLock {
            CameraRecordingStatus(
                cameraID: cameraID, stream: stream, recording: $0.segment != nil, segmentPath: $0.segment?.path, segmentStart: $0.segment?.start,
                segmentsWritten: $0.segments, bytesWritten: $0.bytes, packetsDropped: $0.dropped, lastError: $0.lastError,
                interruption: $0.segment == nil ? $0.interruption : nil)
        }
    }

    // MARK: Coverage: what the catalog says of the camera, tiled

    /// The end of what the catalog says of the camera (a segment's end, a gap's end, or the
    /// start of the gap being written).
    private var coveredUntil: Date?
    /// The gap row being written: the camera is not recorded since its start, for its reason.
    /// It is in the catalog from the moment the interruption begins, its end kept up to date
    /// (a crash leaves it ending a few seconds before, not unsaid).
    private var openGap: (id: Int64, start: Date, reason: String)?
    /// Every gap row written since the last segment (the open one included), oldest first.
    private var gapsSinceSegment: [(id: Int64, start: Date)] = []
    /// The end of the camera's last segment: a new one never starts before it.
    private var lastSegmentEnd: Date?
    private var gapExtended = 0.0
    /// Why the camera is not being recorded now; nil while a stream runs on.
    private var interruption: String?
    private var startedAt = Date()

    private func setInterruption(_ reason: String?) {
        interruption = reason
        shared.withLock { $0.interruption = reason }
    }

    /// Something stopped the recording (or keeps it from starting), for `reason`: a gap row
    /// from the end of what was recorded, written now. The first reason stands until
    /// recording resumes, except that "connecting" gives way to what follows it.
    private func interrupted(_ reason: String) {
        let now = clock()
        if let gap = openGap {
            guard gap.reason == "connecting" && reason != gap.reason else { return }
            endGap(at: now)
        }
        if let covered = coveredUntil, let id = writeGap(from: covered, to: max(covered, now), reason: reason) {
            openGap = (id, covered, reason)
            gapsSinceSegment.append((id, covered))
            gapExtended = MonotonicClock.seconds()
        }
        setInterruption(reason)
    }

    /// Closes the gap being written at `time` (removed when it has no length).
    private func endGap(at time: Date) {
        guard let gap = openGap else { return }
        let end = max(time, gap.start)
        do {
            if end.timeIntervalSince(gap.start) < 0.000_5 { try store.catalog.removeGap(id: gap.id) } else { try store.catalog.updateGap(id: gap.id, end: end) }
        } catch {
            note(error, "catalog refused a gap's end")
        }
        coveredUntil = end
        openGap = nil
    }

    /// Moves the gap being written up to now.
    private func extendGap() {
        guard let gap = openGap, MonotonicClock.seconds() - gapExtended >= progressSeconds else { return }
        gapExtended = MonotonicClock.seconds()
        do { try store.catalog.updateGap(id: gap.id, end: max(clock(), gap.start)) } catch { note(error, "catalog refused a gap's end") }
    }

    @discardableResult
    private func writeGap(from start: Date, to end: Date, reason: String) -> Int64? {
        guard end >= start else { return nil }
        do {
            return try store.catalog.addGap(GapRecord(camera: cameraID, start: start, end: end, reason: reason, stream: stream))
        } catch {
            note(error, "catalog refused a gap row")
            return nil
        }
    }

    private func note(_ error: any Error, _ what: String) {
        logger.error("\(cameraID)\(stream == .main ? "" : " (sub stream)"): \(what): \(error)")
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
            coveredUntil = try store.catalog.lastCovered(camera: cameraID, stream: stream)
            lastSegmentEnd = try store.catalog.segment(camera: cameraID, stream: stream, before: .distantFuture)?.end
        } catch {
            note(error, "cannot read the catalog")
        }
        // The time since the last run is the recorder's absence; then it connects.
        if let covered = coveredUntil, covered < startedAt, let id = writeGap(from: covered, to: startedAt, reason: CameraRecorder.notRunning) {
            gapsSinceSegment.append((id, covered))
            coveredUntil = startedAt
        }
        interrupted("connecting")
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
            if open == nil { extendGap() }
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
                    // A picture lasts what the stream says, within reason (a hostile or broken stream may say anything).
                    let declared = packet.duration > 0 ? packet.timeBase.seconds(packet.duration) : 1 / (info.framesPerSecond ?? 25)
                    let duration = declared.isFinite ? min(max(declared, 0.001), 1) : 0.04
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
        let stoppedAt = gate.stopRequestedAt ?? clock()
        if let current = open {
            // Packets still queued are not written: the time from the last one to the stop is said.
            let closed = close(current)
            // A camera silent for a while before the stop had lost its signal, even if the read had not timed out yet.
            let silence = stoppedAt.timeIntervalSince1970 - current.lastArrival
            if silence > 2 {
                interrupted("signal lost: no picture in the \(Int(silence)) s before the recorder stopped")
            } else if stoppedAt.timeIntervalSince(closed.end) >= 1 {
                interrupted("recorder stopping")
            }
        }
        // The gap being written ends at the stop.
        endGap(at: stoppedAt)
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
    /// resumes after an interruption, the gap being written ends where the segment starts;
    /// when the stream ran on, the segment starts where the last one ended.
    private func begin(info: StreamInfo, pts: Double, arrival: Double, duration: Double) -> Open? {
        let wallStart = Date(timeIntervalSince1970: arrival)
        var fixedStart: Date? = nil
        if openGap == nil, let covered = coveredUntil, covered <= wallStart.addingTimeInterval(1) {
            if interruption == nil && abs(wallStart.timeIntervalSince(covered)) < 1 {
                fixedStart = covered  // the stream ran on: this segment continues the last one
            } else {
                interrupted(interruption ?? "no pictures")  // a hole nothing announced
            }
        }
        // (Footage "after" now means the clock went back: times are left as the clock says.)
        let lowerBound = lastSegmentEnd.flatMap { $0 <= wallStart.addingTimeInterval(1) ? $0 : nil }
        let start = fixedStart ?? max(wallStart, lowerBound ?? wallStart)
        let path = store.newSegmentPath(camera: cameraID, start: start, stream: stream)
        var record = SegmentRecord(camera: cameraID, path: path, start: start, end: start, stream: stream)
        do {
            record.id = try store.catalog.insertSegment(record)
        } catch {
            note(error, "catalog refused a new segment")
            interrupted("the catalog refused a new segment")
            gate.requestPass()
            return nil
        }
        let writer: StreamCopyWriter
        do {
            writer = try StreamCopyWriter(path: store.root.appendingPathComponent(path).path, formatName: "mpegts", streams: [(info.parameters, info.timeBase)])
        } catch {
            note(error, "cannot create \(path)")
            try? store.catalog.removeSegment(id: record.id)
            interrupted("cannot write to the storage: \(error.message)")
            gate.requestPass()
            return nil
        }
        // Recording resumes: the gaps since the last segment end where this one starts.
        openGap = nil
        var opened = Open(
            record: record, writer: writer, firstPTS: pts, lastPTS: pts, lastDuration: duration, anchor: arrival,
            lastArrival: arrival, lastProgress: MonotonicClock.seconds(), lastFlush: MonotonicClock.seconds(), fixedStart: fixedStart,
            lowerBound: lowerBound, gaps: gapsSinceSegment)
        gapsSinceSegment = []
        followGap(&opened, start: start)
        setInterruption(nil)
        shared.withLock { $0.segment = record }
        coveredUntil = start
        return opened
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
        // Never after the last picture arrived (a stream whose timestamps ran ahead of time),
        // but for what a start held back by the segment before it shifted.
        let held = current.fixedStart == nil ? max(0, start.timeIntervalSince1970 - current.anchor) : 0
        let latest = max(current.lastArrival + current.lastDuration + held, start.timeIntervalSince1970)
        record.end = Date(timeIntervalSince1970: min(min(max(wallEnd, streamEnd - 0.5), streamEnd + 0.5), latest))
        record.skew = current.lastArrival - wallEnd
        return record
    }

    /// Keeps the gap rows in front of a segment ending where the segment starts: a gap that
    /// would start after it is removed, the last one left ends at its start.
    private func followGap(_ current: inout Open, start: Date) {
        guard !current.gaps.isEmpty else { return }
        var kept: [(id: Int64, start: Date)] = []
        do {
            for gap in current.gaps {
                if start.timeIntervalSince(gap.start) < 0.000_5 {
                    try store.catalog.removeGap(id: gap.id)
                } else {
                    kept.append(gap)
                }
            }
            if let last = kept.last { try store.catalog.updateGap(id: last.id, end: start) }
        } catch {
            note(error, "catalog refused a gap's end")
        }
        current.gaps = kept
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
        if failed {
            // The disk refused the last bytes: the row says what the file holds, not what was sent.
            guard let truth = try? TransportStreamScan.full(path: store.url(of: record).path), truth.firstPTS != nil else {
                discard(current)
                return SegmentRecord(camera: cameraID, path: record.path, start: record.start, end: record.start, stream: stream)
            }
            record.end = record.start.addingTimeInterval(truth.duration)
            record.keyframes = truth.keyframes
        }
        if let digest = RecordingStore.digest(of: store.url(of: record)) {
            record.sha256 = digest.sha256
            record.bytes = digest.bytes
        }
        finish(current, as: record)
        return record
    }

    /// Writes a segment's final row (the gaps before it ending at its start) and moves the
    /// camera's coverage to its end.
    private func finish(_ current: Open, as record: SegmentRecord) {
        var updated = current
        followGap(&updated, start: record.start)
        do {
            try store.catalog.updateSegment(record)
        } catch {
            note(error, "catalog update of \(record.path) failed")
        }
        coveredUntil = record.end
        lastSegmentEnd = record.end
        shared.withLock {
            $0.segment = nil
            $0.segments += 1
            $0.bytes += record.bytes
        }
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
            finish(current, as: truth)
        } else {
            discard(current)
        }
        interrupted("cannot write to the storage (disk full)")
        gate.requestPass()
    }

    /// Nothing readable reached the disk: no segment. What was said before it (its gap,
    /// or the segment it continued) now ends where it would have started.
    private func discard(_ current: Open) {
        let start = timed(current).start
        var updated = current
        followGap(&updated, start: start)
        unlink(store.url(of: current.record).path)
        try? store.catalog.removeSegment(id: current.record.id)
        coveredUntil = start
        gapsSinceSegment = updated.gaps
        shared.withLock { $0.segment = nil }
    }
}
