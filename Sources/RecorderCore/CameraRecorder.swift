public import Foundation
import Logging
public import Media
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
}

/// Records one camera's main stream: stream copy into MPEG-TS segments of about
/// `segmentSeconds`, cut on keyframes, each indexed in the catalog as it is written.
///
/// Runs on its own thread, fed by a bounded packet subscription (a slow disk drops the
/// oldest packets, counted, and never stalls the camera's receive thread).
///
/// Times: a segment's start is the recorder's clock when its first packet arrived, corrected to the
/// earliest (arrival - elapsed stream time) seen in the segment, so a burst of buffered
/// packets on connect does not shift it; its end is start plus the stream time it covers.
/// The skew noted is the recorder's clock at the last packet minus that end.
final class CameraRecorder: @unchecked Sendable {  // mutable state is the recorder thread's own; `shared` is locked
    let cameraID: String
    private let feed: LiveFeed
    private let store: RecordingStore
    private let segmentSeconds: Double
    private let progressSeconds: Double
    /// Time between batches of packets (the queue holds 120 s at 25 fps).
    private let batchSeconds = 0.2
    private let logger: Logger
    private let stopFlag = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    private struct Shared {
        var segment: SegmentRecord?
        var segments = 0
        var bytes: Int64 = 0
        var lastError: String?
        var dropped = 0
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
    }

    init(
        cameraID: String, feed: LiveFeed, store: RecordingStore, segmentSeconds: Double, progressSeconds: Double = 5
    ) {
        self.cameraID = cameraID
        self.feed = feed
        self.store = store
        self.segmentSeconds = segmentSeconds
        self.progressSeconds = progressSeconds
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
                segmentsWritten: $0.segments, bytesWritten: $0.bytes, packetsDropped: $0.dropped, lastError: $0.lastError)
        }
    }

    private func run() {
        let subscription = feed.subscribePackets(capacity: 3000)
        feed.setKeepRunning(true)
        defer {
            subscription.cancel()
            feed.setKeepRunning(false)
        }
        var open: Open? = nil
        var info: StreamInfo? = nil
        var waitingForKeyframe = true
        var lostAt: Date? = nil
        var lostReason = "recorder not running"
        // Footage missing since the last segment this camera has (the recorder was stopped).
        lostAt = (try? store.catalog.segment(camera: cameraID, before: .distantFuture))?.end

        while !stopFlag.load(ordering: .acquiring) {
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
                    if let current = open { close(current) }
                    open = nil
                    info = started
                    waitingForKeyframe = true
                case .streamLost(let at, let reason):
                    if let current = open {
                        close(current)
                        lostAt = current.record.end
                    } else if lostAt == nil {
                        lostAt = at
                    }
                    lostReason = "signal lost: \(reason)"
                    open = nil
                    waitingForKeyframe = true
                case .packet(let packet, let receivedAt):
                    guard let info, let pts = packet.pts.map({ packet.timeBase.seconds($0) }) else { continue }
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
                        if jumped || (packet.isKeyframe && elapsed >= segmentSeconds) {
                            close(current)
                            open = nil
                            if jumped && !packet.isKeyframe {
                                waitingForKeyframe = true
                                continue
                            }
                        } else {
                            current.anchor = min(current.anchor, arrival - elapsed)
                            current.lastPTS = max(current.lastPTS, pts)
                            current.lastDuration = duration
                            current.lastArrival = arrival
                            if packet.isKeyframe {
                                current.record.keyframes.append(KeyframeMark(offset: elapsed, byte: current.writer.position))
                            }
                            if write(packet, to: current.writer) {
                                open = current
                            } else {
                                close(current)
                                open = nil
                                waitingForKeyframe = true
                                continue
                            }
                            let now = MonotonicClock.seconds()
                            if now - current.lastProgress >= progressSeconds {
                                open = progress(current)
                            } else if now - current.lastFlush >= 1 {
                                // At most about a second of footage is only in memory.
                                current.writer.flush()
                                current.lastFlush = now
                                open = current
                            }
                            continue
                        }
                    }
                    // A keyframe starts a new segment.
                    guard packet.isKeyframe else { continue }
                    if let started = begin(info: info, pts: pts, arrival: arrival, duration: duration) {
                        if let lostAt, started.record.start.timeIntervalSince(lostAt) > 1 {
                            try? store.catalog.addGap(GapRecord(camera: cameraID, start: lostAt, end: started.record.start, reason: lostReason))
                        }
                        lostAt = nil
                        var current = started
                        current.record.keyframes.append(KeyframeMark(offset: 0, byte: current.writer.position))
                        if write(packet, to: current.writer) { open = current } else { close(current) }
                    }
                }
            }
            if !stopFlag.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: batchSeconds) }
            shared.withLock { $0.dropped = subscription.droppedCount }
        }
        if let current = open { close(current) }
    }

    private func write(_ packet: Packet, to writer: StreamCopyWriter) -> Bool {
        do {
            try writer.write(packet)
            return true
        } catch {
            logger.error("\(cameraID): cannot write \(writer.path): \(error)")
            shared.withLock { $0.lastError = "\(error)" }
            return false
        }
    }

    /// Opens a segment: the catalog's row first (state open), then the file.
    private func begin(info: StreamInfo, pts: Double, arrival: Double, duration: Double) -> Open? {
        let start = Date(timeIntervalSince1970: arrival)
        let path = store.newSegmentPath(camera: cameraID, start: start)
        var record = SegmentRecord(camera: cameraID, path: path, start: start, end: start)
        do {
            record.id = try store.catalog.insertSegment(record)
        } catch {
            logger.error("\(cameraID): catalog refused a new segment: \(error)")
            shared.withLock { $0.lastError = "\(error)" }
            return nil
        }
        do {
            let writer = try StreamCopyWriter(path: store.root.appendingPathComponent(path).path, formatName: "mpegts", streams: [(info.parameters, info.timeBase)])
            shared.withLock { $0.segment = record }
            return Open(
                record: record, writer: writer, firstPTS: pts, lastPTS: pts, lastDuration: duration, anchor: arrival,
                lastArrival: arrival, lastProgress: MonotonicClock.seconds(), lastFlush: MonotonicClock.seconds())
        } catch {
            logger.error("\(cameraID): cannot create \(path): \(error)")
            shared.withLock { $0.lastError = "\(error)" }
            try? store.catalog.removeSegment(id: record.id)
            return nil
        }
    }

    private func timed(_ current: Open) -> SegmentRecord {
        var record = current.record
        record.start = Date(timeIntervalSince1970: current.anchor)
        let end = current.anchor + (current.lastPTS - current.firstPTS) + current.lastDuration
        record.end = Date(timeIntervalSince1970: end)
        record.skew = current.lastArrival - end
        return record
    }

    /// Pushes the file's bytes to the kernel and the segment's progress to the catalog, so
    /// a crash loses only the last seconds.
    private func progress(_ current: Open) -> Open {
        var updated = current
        current.writer.flush()
        var record = timed(current)
        record.bytes = current.writer.position
        try? store.catalog.updateSegment(record)
        updated.lastProgress = MonotonicClock.seconds()
        updated.lastFlush = updated.lastProgress
        return updated
    }

    /// Closes the file, hashes it and writes its final row.
    private func close(_ current: Open) {
        do {
            try current.writer.close()
        } catch {
            logger.error("\(cameraID): closing \(current.writer.path): \(error)")
        }
        var record = timed(current)
        record.state = .closed
        if let digest = RecordingStore.digest(of: store.url(of: record)) {
            record.sha256 = digest.sha256
            record.bytes = digest.bytes
        }
        do {
            try store.catalog.updateSegment(record)
        } catch {
            logger.error("\(cameraID): catalog update of \(record.path) failed: \(error)")
        }
        shared.withLock {
            $0.segment = nil
            $0.segments += 1
            $0.bytes += record.bytes
        }
    }
}
