public import Foundation
import Logging
public import Media
import Synchronization

/// A recorded picture and the UTC time it was taken.
public struct PlaybackFrame: Sendable {
    public let image: RGBImage
    public let time: Date
    public let segmentPath: String
}

/// A recorded stream as it is read: the segment's description, and the UTC time of
/// timestamp zero (a frame's time is `origin` plus its timestamp in seconds).
public struct RecordedStream: Sendable {
    public let info: StreamInfo
    public let origin: Date
    public let segmentPath: String

    public init(info: StreamInfo, origin: Date, segmentPath: String) {
        self.info = info
        self.origin = origin
        self.segmentPath = segmentPath
    }
}

/// What a reader of recorded packets delivers, in order.
public enum RecordedItem: Sendable {
    case packet(Packet)
    /// The next segment begins (after its predecessor's last packet).
    case stream(RecordedStream)
}

/// A camera's recorded packets in time order, across segments: from the segment files
/// (`SegmentPackets`, in the recorder) or from the recorder over the network. Used by one
/// thread.
public protocol RecordedPackets: AnyObject {
    var camera: String { get }
    /// Positions at the keyframe at or before `target`, in the segment that contains it or
    /// the first one after it; the stream's description, nil when nothing is recorded at or
    /// after `target`.
    func position(at target: Date) throws(MediaError) -> RecordedStream?
    /// The next packet, or the next segment's description; nil at the end of the recordings.
    func read() throws(MediaError) -> RecordedItem?
    /// Whether footage later than `time` was recorded since (a cheap look, for a player at
    /// the end of the recordings); false when it cannot tell cheaply.
    func hasFootage(after time: Date) -> Bool
    /// Stops a blocked `position` or `read` from another thread (a console leaving playback).
    func cancel()
}

extension RecordedPackets {
    public func hasFootage(after time: Date) -> Bool { false }
    public func cancel() {}
}

/// A camera's recorded packets read from its segment files, with the catalog's keyframe
/// index (segment, then byte offset of the keyframe at or before the time).
///
/// A frame's time is its segment's start (UTC) plus its timestamp minus the file's first
/// timestamp: wall-clock changes (daylight saving) play no part.
public final class SegmentPackets: RecordedPackets {
    public let camera: String
    private let store: RecordingStore
    private var segment: SegmentRecord?
    private var demuxer: Demuxer?
    private var videoIndex = 0

    public init(store: RecordingStore, camera: String) {
        self.store = store
        self.camera = camera
    }

    private func catalog<T>(_ body: () throws(CatalogError) -> T) throws(MediaError) -> T {
        do {
            return try body()
        } catch {
            throw MediaError(kind: .io, operation: "catalog", source: camera, message: error.description)
        }
    }

    private func open(_ record: SegmentRecord) throws(MediaError) -> RecordedStream {
        let opened = try Demuxer(url: store.url(of: record).path, options: SegmentScan.demuxerOptions)
        guard let video = opened.videoStream else {
            throw MediaError(kind: .noVideoStream, operation: "play", source: record.path, message: "no video in the segment")
        }
        demuxer = opened
        videoIndex = video.index
        segment = record
        return stream(of: record, opened: opened, video: video)
    }

    private func stream(of record: SegmentRecord, opened: Demuxer, video: StreamInfo) -> RecordedStream {
        RecordedStream(info: video, origin: record.start.addingTimeInterval(-(opened.startTime ?? 0)), segmentPath: record.path)
    }

    public func position(at target: Date) throws(MediaError) -> RecordedStream? {
        guard let record = try catalog({ () throws(CatalogError) in try store.catalog.segment(camera: camera, containingOrAfter: target) }) else {
            return nil
        }
        let reopened = segment?.id != record.id || demuxer == nil
        let described: RecordedStream
        if reopened {
            described = try open(record)
        } else {
            described = stream(of: record, opened: demuxer!, video: demuxer!.videoStream!)
        }
        let offset = target.timeIntervalSince(record.start)
        // The last keyframe at or before the time; its byte offset from the index.
        let mark = record.keyframes.last(where: { $0.offset <= offset + 0.0005 })
        if let mark, mark.byte > 0 || !reopened {
            try demuxer?.seek(byteOffset: mark.byte)
        } else if mark == nil && !reopened {
            try demuxer?.seek(byteOffset: 0)
        }
        return described
    }

    public func hasFootage(after time: Date) -> Bool {
        guard let last = try? store.catalog.segment(camera: camera, before: .distantFuture) else { return false }
        return last.end > time.addingTimeInterval(0.1)
    }

    public func read() throws(MediaError) -> RecordedItem? {
        guard let demuxer, let current = segment else { return nil }
        while let packet = try demuxer.read() {
            if packet.streamIndex == videoIndex { return .packet(packet) }
        }
        // End of this segment: on to the one that follows it.
        let following = try catalog { () throws(CatalogError) in
            try store.catalog.segments(camera: camera, from: current.end, to: nil).first { $0.start > current.start }
        }
        guard let following else {
            segment = nil
            self.demuxer = nil
            return nil
        }
        return .stream(try open(following))
    }
}

/// Reads a camera's recordings in time order as pictures: seeks to the keyframe before a
/// time, then decodes forward to the exact frame; scales only the frames it returns. Its
/// packets come from the segment files or from the recorder. Used by one thread.
public final class PlaybackReader: @unchecked Sendable {  // used by one thread at a time (a Player hands it to its own thread)
    public var camera: String { packets.camera }
    public private(set) var width: Int
    public private(set) var height: Int
    private let packets: any RecordedPackets
    private var preview: Bool
    private var stream: RecordedStream?
    private var decoder: Decoder?
    private var scaler: Scaler
    /// The decoder was sent the end of a segment; what it still holds comes out first.
    private var draining = false
    /// The next segment's description, kept while the decoder drains the previous one.
    private var nextStream: RecordedStream?
    private var ended = true
    /// The time of the last frame decoded.
    private var lastTime = Date.distantPast
    /// Where `recordedSize(at:)` left the packets: the seek to that time need not position again.
    private var positioned: Date?
    /// Where the last `seek(to:)` spent its time.
    public private(set) var lastSeek = SeekTiming()

    /// `preview`: skip the deblocking filter (pictures shown much smaller than recorded).
    public init(packets: any RecordedPackets, width: Int, height: Int, preview: Bool = false) throws(MediaError) {
        self.packets = packets
        self.width = width
        self.height = height
        self.preview = preview
        scaler = try Scaler(outputWidth: width, outputHeight: height)
    }

    public convenience init(store: RecordingStore, camera: String, width: Int, height: Int, preview: Bool = false) throws(MediaError) {
        try self.init(packets: SegmentPackets(store: store, camera: camera), width: width, height: height, preview: preview)
    }

    /// The segment being read.
    public var currentSegmentPath: String? { stream?.segmentPath }

    /// The picture size recorded at `time` (or the next footage): positions there, so the
    /// seek to `time` that follows does not again. nil when nothing is recorded after it.
    public func recordedSize(at time: Date) throws(MediaError) -> (width: Int, height: Int)? {
        guard let found = try packets.position(at: time) else { return nil }
        try begin(found)
        positioned = time
        return (found.info.parameters.width, found.info.parameters.height)
    }

    /// Changes the size pictures are scaled to, and whether decoding is for a preview.
    public func resize(width: Int, height: Int, preview: Bool) throws(MediaError) {
        scaler = try Scaler(outputWidth: width, outputHeight: height)
        self.width = width
        self.height = height
        if preview != self.preview, let stream {
            self.preview = preview
            decoder = try Decoder(parameters: stream.info.parameters, timeBase: stream.info.timeBase, threads: 2, forPreview: preview)
        }
        self.preview = preview
    }

    /// A new stream to decode: the same decoder (flushed) when its parameters are the same.
    private func begin(_ next: RecordedStream) throws(MediaError) {
        if decoder == nil || !PlaybackReader.decodeAlike(stream?.info, next.info) {
            // Two threads: a seek decodes up to a keyframe interval of frames before the one shown.
            decoder = try Decoder(parameters: next.info.parameters, timeBase: next.info.timeBase, threads: 2, forPreview: preview)
        } else {
            decoder?.flush()
        }
        stream = next
        draining = false
        nextStream = nil
        ended = false
    }

    /// Whether one decoder serves both streams: same codec, size, parameter sets, time base.
    static func decodeAlike(_ one: StreamInfo?, _ other: StreamInfo) -> Bool {
        guard let one else { return false }
        let a = one.parameters, b = other.parameters
        return a.codecName == b.codecName && a.width == b.width && a.height == b.height && a.extradata == b.extradata
            && one.timeBase == other.timeBase
    }

    /// Positions the reader at `target` and returns the first frame at or after it (in a
    /// later segment when `target` falls in a gap); nil when nothing is recorded after it.
    public func seek(to target: Date) throws(MediaError) -> PlaybackFrame? {
        var timing = SeekTiming()
        var mark0 = MonotonicClock.seconds()
        func lap() -> Double {
            let now = MonotonicClock.seconds()
            defer { mark0 = now }
            return (now - mark0) * 1000
        }
        defer { lastSeek = timing }
        if positioned != target {
            guard let found = try packets.position(at: target) else {
                ended = true
                return nil
            }
            timing.catalogMilliseconds = lap()
            try begin(found)
            timing.openMilliseconds = lap()
        } else {
            decoder?.flush()
        }
        positioned = nil
        while let frame = try decodeNext(scaleIf: { $0 >= target.addingTimeInterval(-0.0005) }) {
            timing.framesDecoded += 1
            if let image = frame.image {
                timing.decodeMilliseconds = lap()
                return PlaybackFrame(image: image, time: frame.time, segmentPath: frame.segmentPath)
            }
        }
        timing.decodeMilliseconds = lap()
        return nil
    }

    /// The next frame in time order, moving to the next segment at the end of one; nil at
    /// the end of the recordings.
    public func next() throws(MediaError) -> PlaybackFrame? {
        positioned = nil
        guard let frame = try decodeNext(scaleIf: { _ in true }), let image = frame.image else { return nil }
        return PlaybackFrame(image: image, time: frame.time, segmentPath: frame.segmentPath)
    }

    /// Decodes the next frame; scales it only when `scaleIf(time)` (frames skipped on the way
    /// to a seek target are never scaled). At a segment's end the decoder gives what it holds,
    /// then the next segment's frames follow. nil at the end of the recordings.
    private func decodeNext(scaleIf: (Date) -> Bool) throws(MediaError) -> (time: Date, image: RGBImage?, segmentPath: String)? {
        while true {
            guard let decoder, let stream, !ended else { return nil }
            if let frame = try decoder.receive() {
                // A frame without a timestamp: just after the one before it.
                let time = frame.pts.map { stream.origin.addingTimeInterval(frame.timeBase.seconds($0)) } ?? lastTime.addingTimeInterval(0.001)
                lastTime = time
                return (time, scaleIf(time) ? try scaler.scale(frame) : nil, stream.segmentPath)
            }
            if draining {
                // What the last segment held is out: on to the next one, or the end.
                guard let following = nextStream else {
                    ended = true
                    return nil
                }
                try begin(following)
                continue
            }
            switch try packets.read() {
            case .packet(let packet):
                _ = try? decoder.send(packet)  // a damaged packet is skipped, not fatal
            case .stream(let following):
                nextStream = following
                draining = true
                try decoder.send(nil)
            case nil:
                nextStream = nil
                draining = true
                try decoder.send(nil)
            }
        }
    }
}

/// Where a seek spent its time: finding the segment in the catalog, opening it, and
/// decoding from the keyframe before the target to the frame shown.
public struct SeekTiming: Sendable, CustomStringConvertible {
    public var catalogMilliseconds = 0.0
    public var openMilliseconds = 0.0
    public var framesDecoded = 0
    public var decodeMilliseconds = 0.0
    public init() {}
    /// Milliseconds in all.
    public var total: Double { catalogMilliseconds + openMilliseconds + decodeMilliseconds }
    public var description: String {
        String(
            format: "catalog %.1f ms, open %.1f ms, %d frame(s) decoded in %.1f ms", catalogMilliseconds, openMilliseconds, framesDecoded,
            decodeMilliseconds)
    }
}

/// The recorded time several players show together (a synchronised playback wall): one
/// time, one speed, one pause for all; each player shows the picture of that time, or
/// nothing when its camera recorded nothing then.
public final class PlaybackClock: Sendable {
    private struct Anchor {
        var wall: Double
        var media: Date
        var speed: Double
        var paused: Bool
    }
    private let anchor: Mutex<Anchor>

    public init(at time: Date, speed: Double = 1) {
        anchor = Mutex(Anchor(wall: MonotonicClock.seconds(), media: time, speed: speed, paused: false))
    }

    private static func time(_ anchor: Anchor, at wall: Double) -> Date {
        anchor.paused ? anchor.media : anchor.media.addingTimeInterval((wall - anchor.wall) * anchor.speed)
    }

    /// The recorded time shown now.
    public func now() -> Date { anchor.withLock { PlaybackClock.time($0, at: MonotonicClock.seconds()) } }
    public var paused: Bool { anchor.withLock { $0.paused } }
    public var speed: Double { anchor.withLock { $0.speed } }

    public func seek(to time: Date) {
        anchor.withLock {
            $0.media = time
            $0.wall = MonotonicClock.seconds()
        }
    }

    public func togglePause() {
        anchor.withLock {
            let wall = MonotonicClock.seconds()
            $0.media = PlaybackClock.time($0, at: wall)
            $0.wall = wall
            $0.paused.toggle()
        }
    }

    /// One frame's time forward, while paused.
    public func step(seconds: Double = 0.04) {
        anchor.withLock { if $0.paused { $0.media = $0.media.addingTimeInterval(seconds) } }
    }

    public func changeSpeed(by step: Int) {
        anchor.withLock { anchor in
            let wall = MonotonicClock.seconds()
            anchor.media = PlaybackClock.time(anchor, at: wall)
            anchor.wall = wall
            let index = Player.speeds.firstIndex(where: { $0 >= anchor.speed }) ?? 2
            anchor.speed = Player.speeds[max(0, min(Player.speeds.count - 1, index + step))]
        }
    }
}

/// Plays a camera's recordings on its own thread at a speed, into a latest-frame slot the
/// screen reads when it draws (it never waits for the player). With a `PlaybackClock` it
/// follows that clock instead of its own pace (a synchronised wall): a picture is shown when
/// the clock reaches its time, and over a gap the slot is emptied (`State.gap`), never the
/// last picture left frozen. Seeks, pause, single
/// steps and speed changes are requests the thread takes at its next frame.
public final class Player: Sendable {
    public let camera: String
    public let width: Int
    public let height: Int
    public static let speeds: [Double] = [0.25, 0.5, 1, 2, 4, 8, 16]

    /// "1/4", "1/2", "2", "16".
    public static func speedText(_ speed: Double) -> String {
        speed < 1 ? "1/\(Int((1 / speed).rounded()))" : String(Int(speed))
    }

    public struct State: Sendable {
        public var paused = false
        public var speed = 1.0
        /// UTC time of the frame shown.
        public var position: Date
        /// No footage at or after the position.
        public var ended = false
        /// Following a clock: nothing recorded at the clock's time (the next picture is later).
        public var gap = false
        public var error: String?
        /// Earliest and latest times shown: the period the audit log records.
        public var watchedFrom: Date
        public var watchedTo: Date
    }

    private struct Requests {
        var seek: Date?
        var steps = 0
        var stop = false
    }

    private let state: Mutex<State>
    private let requests = Mutex(Requests())
    /// Read by the player's thread only; `cancel()` and `hasFootage` are safe from others.
    nonisolated(unsafe) private let packets: any RecordedPackets
    private let slot = Mutex<LiveFrame?>(nil)
    private let done = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)
    /// The clock a synchronised wall's players follow together (nil: the player's own pace).
    public let clock: PlaybackClock?
    /// When the player's thread last repositioned (following a clock). Its thread only.
    nonisolated(unsafe) private var lastSeek = 0.0

    /// Wakes the thread (its clock moved).
    public func nudge() { wake.signal() }

    /// Pictures shown at half the recorded width or less are decoded for preview (no deblocking).
    public convenience init(store: RecordingStore, camera: String, width: Int, height: Int, at start: Date, speed: Double = 1) throws(MediaError) {
        try self.init(packets: SegmentPackets(store: store, camera: camera), width: width, height: height, at: start, speed: speed)
    }

    /// Plays recorded packets from anywhere (the segment files, the recorder over the network).
    public init(packets: any RecordedPackets, width: Int, height: Int, at start: Date, speed: Double = 1, clock: PlaybackClock? = nil) throws(MediaError) {
        self.camera = packets.camera
        self.packets = packets
        self.clock = clock
        self.width = width
        self.height = height
        state = Mutex(State(speed: speed, position: start, watchedFrom: start, watchedTo: start))
        requests.withLock { $0.seek = start }
        let reader = try PlaybackReader(packets: packets, width: width, height: height)
        // Everything that reads (a file, the recorder over the network) is on the player's thread.
        let thread = Thread { [self, reader] in
            do {
                if let recorded = try reader.recordedSize(at: start) {
                    try reader.resize(width: width, height: height, preview: width * 2 <= recorded.width)
                }
            } catch {
                state.withLock { $0.error = "\(error)" }
            }
            run(reader)
            done.signal()
        }
        thread.name = "play \(camera)"
        thread.start()
    }

    public var current: State { state.withLock { $0 } }
    public func latest() -> LiveFrame? { slot.withLock { $0 } }

    public func seek(to time: Date) {
        requests.withLock { $0.seek = time }
        wake.signal()
    }

    public func seek(by seconds: Double) { seek(to: current.position.addingTimeInterval(seconds)) }

    public func togglePause() {
        state.withLock { $0.paused.toggle() }
        wake.signal()
    }

    /// One frame forward (while paused).
    public func step() {
        requests.withLock { $0.steps += 1 }
        wake.signal()
    }

    /// The next speed up (+1) or down (-1) in 1/4x, 1/2x, 1x ... 16x.
    public func changeSpeed(by step: Int) {
        state.withLock { state in
            let index = Player.speeds.firstIndex(where: { $0 >= state.speed }) ?? 2
            state.speed = Player.speeds[max(0, min(Player.speeds.count - 1, index + step))]
        }
        wake.signal()
    }

    /// Stops the thread (waits up to 5 s).
    /// Stops the thread: whatever it waits for (a file, the recorder) is cancelled; waits for
    /// it a moment only, never on a network.
    public func stop() {
        requestStop()
        waitStopped(until: .now() + 0.5)
    }

    /// Asks the thread to stop, without waiting (several players stop together).
    public func requestStop() {
        requests.withLock { $0.stop = true }
        packets.cancel()
        wake.signal()
    }

    public func waitStopped(until deadline: DispatchTime) { _ = done.wait(timeout: deadline) }

    private func publish(_ frame: PlaybackFrame) {
        slot.withLock { current in
            current = LiveFrame(
                image: frame.image, sequence: (current?.sequence ?? 0) + 1, decodedAt: Date(),
                presentationTime: frame.time.timeIntervalSince1970)
        }
        state.withLock {
            $0.position = frame.time
            $0.ended = false
            $0.gap = false
            $0.error = nil
            $0.watchedFrom = min($0.watchedFrom, frame.time)
            $0.watchedTo = max($0.watchedTo, frame.time)
        }
    }

    /// One turn of a player following a clock.
    private func follow(_ clock: PlaybackClock, _ reader: PlaybackReader, _ request: Requests, _ pending: inout PlaybackFrame?) throws(MediaError) {
        if let target = request.seek {
            pending = nil  // what was waiting for the clock is from before the seek
            let found = try reader.seek(to: target)
            if let found {
                state.withLock { $0.ended = false }
                // The picture a seek lands on is shown when it is the clock's (even late: decoding
                // from the keyframe takes a moment, more at 16x); later, it waits for the clock.
                // (Within a frame after the clock's time: that picture is the one of that time.)
                if found.time.timeIntervalSince(clock.now()) <= 0.1 {
                    publish(found)
                    lastSeek = MonotonicClock.seconds()
                    return
                }
                pending = found
            } else {
                state.withLock {
                    $0.position = target
                    $0.ended = true
                }
                slot.withLock { $0 = nil }
            }
            lastSeek = MonotonicClock.seconds()
        }
        let now = clock.now()
        if current.ended {
            // Nothing after: look again now and then (footage still being written).
            if wake.wait(timeout: .now() + 1) == .timedOut, packets.hasFootage(after: current.position) {
                requests.withLock { $0.seek = clock.now() }
            }
            return
        }
        var next = pending
        if next == nil { next = try reader.next() }
        guard let frame = next else {
            state.withLock { $0.ended = true }
            slot.withLock { $0 = nil }
            return
        }
        pending = nil
        let ahead = frame.time.timeIntervalSince(now)
        if ahead > 0.02 {
            // Not yet its time. Over a second ahead: a gap in this camera's recordings; its tile says so.
            if ahead > 1, !current.gap {
                state.withLock {
                    $0.gap = true
                    $0.position = now
                }
                slot.withLock { $0 = nil }
            }
            pending = frame
            _ = wake.wait(timeout: .now() + min(0.05, ahead / max(clock.speed, 0.25)))
            return
        }
        if ahead < -2 && MonotonicClock.seconds() - lastSeek > 1 {
            requests.withLock { $0.seek = clock.now() }  // far behind the clock (a slow disk, a camera swapped in): jump, once a second at most
            return
        }
        if ahead < -0.1 && !clock.paused { return }  // late: dropped, the next one is decoded
        publish(frame)
    }

    private func run(_ reader: PlaybackReader) {
        // Pace: the frame at media time M is due at anchorWall + (M - anchorMedia) / speed.
        var anchor: (wall: Double, media: Date, speed: Double)? = nil
        var pending: PlaybackFrame? = nil
        while true {
            let request = requests.withLock { requests -> Requests in
                defer {
                    requests.seek = nil
                    requests.steps = 0
                }
                return requests
            }
            if request.stop { return }
            if let clock {
                do {
                    try follow(clock, reader, request, &pending)
                } catch {
                    state.withLock {
                        $0.error = "\(error)"
                        $0.ended = true
                    }
                    _ = wake.wait(timeout: .now() + 0.5)
                }
                continue
            }
            do {
                if let target = request.seek {
                    pending = nil
                    anchor = nil
                    if let frame = try reader.seek(to: target) {
                        publish(frame)
                        anchor = (MonotonicClock.seconds(), frame.time, current.speed)
                    } else {
                        state.withLock {
                            $0.position = target
                            $0.ended = true
                        }
                    }
                    continue
                }
                let snapshot = current
                if snapshot.paused {
                    for _ in 0..<request.steps {
                        if let frame = try pending ?? reader.next() { publish(frame) }
                        pending = nil
                    }
                    anchor = nil
                    _ = wake.wait(timeout: .now() + 0.05)
                    continue
                }
                if snapshot.ended {
                    // At the end of the recordings (close to live, the recorder still writing):
                    // look again each second for what was written since, and play on from there.
                    if wake.wait(timeout: .now() + 1) == .timedOut, snapshot.error == nil, packets.hasFootage(after: snapshot.position),
                        let frame = try reader.seek(to: snapshot.position.addingTimeInterval(0.001))
                    {
                        publish(frame)
                        anchor = (MonotonicClock.seconds(), frame.time, snapshot.speed)
                    }
                    continue
                }
                guard let frame = try pending ?? reader.next() else {
                    state.withLock { $0.ended = true }
                    continue
                }
                pending = nil
                if anchor == nil || anchor!.speed != snapshot.speed {
                    anchor = (MonotonicClock.seconds(), frame.time, snapshot.speed)
                }
                let due = anchor!.wall + frame.time.timeIntervalSince(anchor!.media) / snapshot.speed
                let wait = due - MonotonicClock.seconds()
                if wait > 2 || wait < -2 {
                    anchor = (MonotonicClock.seconds(), frame.time, snapshot.speed)  // a gap in the recordings, or far behind
                } else if wait > 0 {
                    // Woken early by a request: keep the frame for the next turn.
                    if wake.wait(timeout: .now() + wait) == .success {
                        pending = frame
                        continue
                    }
                } else if wait < -0.1 {
                    continue  // late (fast speeds): dropped, the next frame is decoded
                }
                publish(frame)
            } catch {
                state.withLock {
                    $0.error = "\(error)"
                    $0.ended = true
                }
                _ = wake.wait(timeout: .now() + 0.5)
            }
        }
    }
}
