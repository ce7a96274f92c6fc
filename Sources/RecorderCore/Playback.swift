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

/// Reads a camera's recordings in time order, across segment boundaries: seeks with the
/// catalog's keyframe index (segment, then byte offset of the keyframe at or before the
/// time), then decodes forward to the exact frame. Used by one thread.
///
/// A frame's time is its segment's start (UTC) plus its timestamp minus the file's first
/// timestamp: wall-clock changes (daylight saving) play no part.
public final class PlaybackReader: @unchecked Sendable {  // used by one thread at a time (a Player hands it to its own thread)
    public let camera: String
    public private(set) var width: Int
    public private(set) var height: Int
    private let store: RecordingStore
    private var preview: Bool
    private var segment: SegmentRecord?
    private var demuxer: Demuxer?
    private var decoder: Decoder?
    private var fileStart = 0.0
    private var videoIndex = 0
    private var scaler: Scaler
    private var draining = false
    /// Where the last `seek(to:)` spent its time.
    public private(set) var lastSeek = SeekTiming()

    /// `preview`: skip the deblocking filter (pictures shown much smaller than recorded).
    public init(store: RecordingStore, camera: String, width: Int, height: Int, preview: Bool = false) throws(MediaError) {
        self.store = store
        self.camera = camera
        self.width = width
        self.height = height
        self.preview = preview
        scaler = try Scaler(outputWidth: width, outputHeight: height)
    }

    /// The segment being read.
    public var currentSegment: SegmentRecord? { segment }

    /// The picture size recorded at `time` (or the next footage): opens that segment, so
    /// the seek that follows does not open it again. nil when nothing is recorded after it.
    public func recordedSize(at time: Date) throws(MediaError) -> (width: Int, height: Int)? {
        guard let record = try segment(at: time) else { return nil }
        try open(record)
        guard let video = demuxer?.videoStream else { return nil }
        return (video.parameters.width, video.parameters.height)
    }

    /// Changes the size pictures are scaled to, and whether decoding is for a preview.
    public func resize(width: Int, height: Int, preview: Bool) throws(MediaError) {
        scaler = try Scaler(outputWidth: width, outputHeight: height)
        self.width = width
        self.height = height
        if preview != self.preview, let video = demuxer?.videoStream {
            self.preview = preview
            decoder = try Decoder(parameters: video.parameters, timeBase: video.timeBase, threads: 2, forPreview: preview)
        }
        self.preview = preview
    }

    private func segment(at time: Date) throws(MediaError) -> SegmentRecord? {
        do {
            return try store.catalog.segment(camera: camera, containingOrAfter: time)
        } catch {
            throw MediaError(kind: .io, operation: "catalog", source: camera, message: error.description)
        }
    }

    private func open(_ record: SegmentRecord) throws(MediaError) {
        let opened = try Demuxer(url: store.url(of: record).path, options: SegmentScan.demuxerOptions)
        guard let video = opened.videoStream else {
            throw MediaError(kind: .noVideoStream, operation: "play", source: record.path, message: "no video in the segment")
        }
        if decoder == nil || segment == nil {
            // Two threads: a seek decodes up to a keyframe interval of frames before the one shown.
            decoder = try Decoder(parameters: video.parameters, timeBase: video.timeBase, threads: 2, forPreview: preview)
        } else {
            decoder?.flush()
        }
        demuxer = opened
        videoIndex = video.index
        fileStart = opened.startTime ?? 0
        segment = record
        draining = false
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
        guard let record = try segment(at: target) else { return nil }
        timing.catalogMilliseconds = lap()
        let reopened = segment?.id != record.id || demuxer == nil
        if reopened { try open(record) }
        timing.openMilliseconds = lap()
        let offset = target.timeIntervalSince(record.start)
        // The last keyframe at or before the time; its byte offset from the index.
        let mark = record.keyframes.last(where: { $0.offset <= offset + 0.0005 })
        if let mark, mark.byte > 0 || !reopened {
            try demuxer?.seek(byteOffset: mark.byte)
        } else if mark == nil && !reopened {
            try demuxer?.seek(byteOffset: 0)
        }
        draining = false
        decoder?.flush()
        while let frame = try decodeNext(scaleIf: { $0 >= target.addingTimeInterval(-0.0005) }) {
            timing.framesDecoded += 1
            if let image = frame.image {
                timing.decodeMilliseconds = lap()
                return PlaybackFrame(image: image, time: frame.time, segmentPath: record.path)
            }
        }
        timing.decodeMilliseconds = lap()
        // Past this segment's last frame: the next segment's first.
        return try next()
    }

    /// The next frame in time order, moving to the next segment at the end of one; nil at
    /// the end of the recordings.
    public func next() throws(MediaError) -> PlaybackFrame? {
        while true {
            if segment == nil { return nil }
            if let frame = try decodeNext(scaleIf: { _ in true }), let image = frame.image {
                return PlaybackFrame(image: image, time: frame.time, segmentPath: segment!.path)
            }
            // End of this segment: on to the one that follows it.
            guard let current = segment else { return nil }
            let following: SegmentRecord?
            do {
                following = try store.catalog.segments(camera: camera, from: current.end, to: nil).first { $0.start > current.start }
            } catch {
                throw MediaError(kind: .io, operation: "catalog", source: camera, message: error.description)
            }
            guard let following else {
                segment = nil
                return nil
            }
            try open(following)
        }
    }

    /// Decodes the next frame of the segment; scales it only when `scaleIf(time)` (frames
    /// skipped on the way to a seek target are never scaled). nil at the segment's end.
    private func decodeNext(scaleIf: (Date) -> Bool) throws(MediaError) -> (time: Date, image: RGBImage?)? {
        guard let demuxer, let decoder, let record = segment else { return nil }
        while true {
            if let frame = try decoder.receive() {
                let seconds = frame.pts.map { frame.timeBase.seconds($0) } ?? fileStart
                let time = record.start.addingTimeInterval(seconds - fileStart)
                return (time, scaleIf(time) ? try scaler.scale(frame) : nil)
            }
            if draining { return nil }
            guard let packet = try demuxer.read() else {
                draining = true
                try decoder.send(nil)
                continue
            }
            guard packet.streamIndex == videoIndex else { continue }
            _ = try? decoder.send(packet)  // a damaged packet is skipped, not fatal
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

/// Plays a camera's recordings on its own thread at a speed, into a latest-frame slot the
/// screen reads when it draws (it never waits for the player). Seeks, pause, single
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
    private let slot = Mutex<LiveFrame?>(nil)
    private let done = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)

    /// Pictures shown at half the recorded width or less are decoded for preview (no deblocking).
    public init(store: RecordingStore, camera: String, width: Int, height: Int, at start: Date, speed: Double = 1) throws(MediaError) {
        self.camera = camera
        self.width = width
        self.height = height
        state = Mutex(State(speed: speed, position: start, watchedFrom: start, watchedTo: start))
        requests.withLock { $0.seek = start }
        let reader = try PlaybackReader(store: store, camera: camera, width: width, height: height)
        if let recorded = try reader.recordedSize(at: start) {
            try reader.resize(width: width, height: height, preview: width * 2 <= recorded.width)
        }
        let thread = Thread { [self, reader] in
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
    public func stop() {
        requests.withLock { $0.stop = true }
        wake.signal()
        _ = done.wait(timeout: .now() + 5)
    }

    private func publish(_ frame: PlaybackFrame) {
        slot.withLock { current in
            current = LiveFrame(
                image: frame.image, sequence: (current?.sequence ?? 0) + 1, decodedAt: Date(),
                presentationTime: frame.time.timeIntervalSince1970)
        }
        state.withLock {
            $0.position = frame.time
            $0.ended = false
            $0.watchedFrom = min($0.watchedFrom, frame.time)
            $0.watchedTo = max($0.watchedTo, frame.time)
        }
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
                    _ = wake.wait(timeout: .now() + 0.2)
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
