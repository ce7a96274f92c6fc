public import Foundation
public import Media

/// Writes a source's packets into a store as the closed segments a recorder makes of a
/// camera (MPEG-TS files cut at keyframes, their catalog rows with hash and keyframe
/// index), as fast as the source and the disk go: footage of a past period for tests and
/// benchmarks of what reads recordings (analysis, playback, export). Not for a store a
/// recorder is writing.
public struct SegmentImport {
    public let store: RecordingStore
    /// Length of a segment, in seconds (cut at the first keyframe after it).
    public var segmentSeconds: Double

    public init(store: RecordingStore, segmentSeconds: Double = 60) {
        self.store = store
        self.segmentSeconds = segmentSeconds
    }

    /// Writes camera `camera`'s packets from `source` until `until` (stream time) or the
    /// source's end. With `startingAt`, the stream's first packet is placed at that moment;
    /// without, the packets' timestamps are wall-clock time already (a simulated camera's).
    /// Returns the segments written, in time order.
    @discardableResult
    public func write(
        camera: String, stream segmentStream: StreamChoice = .main, source: any PacketSource, startingAt: Date? = nil, until: Date? = nil
    ) throws -> [SegmentRecord] {
        var written: [SegmentRecord] = []
        var open: (writer: StreamCopyWriter, path: String, start: Double)? = nil
        var lastTime = 0.0, lastDuration = 1.0 / 25
        var shift: Double? = nil
        let ticks = Rational.mpeg90kHz
        func close() throws {
            guard let current = open else { return }
            open = nil
            try current.writer.close()
            let file = store.root.appendingPathComponent(current.path)
            let scan = try SegmentScan.scan(file)
            guard let digest = RecordingStore.digest(of: file) else { throw CocoaError(.fileReadUnknown) }
            var record = SegmentRecord(
                camera: camera, path: current.path, start: Date(timeIntervalSince1970: current.start),
                end: Date(timeIntervalSince1970: lastTime + lastDuration), bytes: digest.bytes, sha256: digest.sha256, keyframes: scan.keyframes, state: .closed,
                stream: segmentStream)
            record.id = try store.catalog.insertSegment(record)
            written.append(record)
        }
        while let packet = try source.read() {
            guard let pts = packet.pts else { continue }
            let stream = packet.timeBase.seconds(pts)
            if shift == nil { shift = startingAt.map { $0.timeIntervalSince1970 - stream } ?? 0 }
            let time = stream + shift!
            if let until, time >= until.timeIntervalSince1970 { break }
            if packet.duration > 0 { lastDuration = packet.timeBase.seconds(packet.duration) }
            if packet.isKeyframe, let current = open, time - current.start >= segmentSeconds - lastDuration / 2 { try close() }
            if open == nil {
                guard packet.isKeyframe else { continue }
                let path = store.newSegmentPath(camera: camera, start: Date(timeIntervalSince1970: time), stream: segmentStream)
                let writer = try StreamCopyWriter(
                    path: store.root.appendingPathComponent(path).path, formatName: "mpegts", streams: [(source.video.parameters, ticks)])
                open = (writer, path, time)
            }
            let dts = packet.dts.map { packet.timeBase.seconds($0) + shift! } ?? time
            packet.setTimestamps(
                pts: Int64((time * 90_000).rounded()), dts: Int64((dts * 90_000).rounded()), duration: Int64((lastDuration * 90_000).rounded()), timeBase: ticks)
            packet.streamIndex = 0
            try open!.writer.write(packet)
            lastTime = time
        }
        try close()
        return written
    }
}
