public import Foundation
public import Media
public import RecorderCore

/// Writes what simulated cameras showed over a past period into a store, as closed
/// segments the recorder would have made (MPEG-TS files, catalog rows with their hash and
/// keyframe index), as fast as the disk takes them: footage for tests and benchmarks of
/// what reads recordings (analysis, playback) without recording in real time.
///
/// The pictures are the ones `SimulatedSource` sends live at the same moments, so the
/// city's truth (`SimulatedCity.sightings`) holds for them.
public struct SimulatedArchive {
    public let runtime: SimulatedCityRuntime
    /// Length of a segment, in seconds (cut at the first keyframe after it).
    public var segmentSeconds: Double

    public init(runtime: SimulatedCityRuntime, segmentSeconds: Double = 60) {
        self.runtime = runtime
        self.segmentSeconds = segmentSeconds
    }

    /// Writes camera `camera`'s `url` stream from `from` (brought back to a keyframe) to
    /// `to`; returns the segments written, in time order.
    @discardableResult
    public func write(camera: String, url: String, from: Date, to: Date, into store: RecordingStore) throws -> [SegmentRecord] {
        let source = try runtime.open(url: url, replayFrom: from)
        var written: [SegmentRecord] = []
        var open: (writer: StreamCopyWriter, path: String, start: Double)? = nil
        var lastTime = 0.0
        let frame = 1 / Double(runtime.city.framesPerSecond)
        func close() throws {
            guard let current = open else { return }
            try current.writer.close()
            let file = store.root.appendingPathComponent(current.path)
            let scan = try SegmentScan.scan(file)
            guard let digest = RecordingStore.digest(of: file) else { throw CocoaError(.fileReadUnknown) }
            let record = SegmentRecord(
                camera: camera, path: current.path, start: Date(timeIntervalSince1970: current.start), end: Date(timeIntervalSince1970: lastTime + frame),
                bytes: digest.bytes, sha256: digest.sha256, keyframes: scan.keyframes, state: .closed)
            var inserted = record
            inserted.id = try store.catalog.insertSegment(record)
            written.append(inserted)
            open = nil
        }
        while let packet = try source.read() {
            guard let pts = packet.pts else { continue }
            let time = packet.timeBase.seconds(pts)
            if time >= to.timeIntervalSince1970 { break }
            if packet.isKeyframe, let current = open, time - current.start >= segmentSeconds - frame / 2 { try close() }
            if open == nil {
                guard packet.isKeyframe else { continue }
                let path = store.newSegmentPath(camera: camera, start: Date(timeIntervalSince1970: time))
                let writer = try StreamCopyWriter(
                    path: store.root.appendingPathComponent(path).path, formatName: "mpegts", streams: [(source.video.parameters, source.video.timeBase)])
                open = (writer, path, time)
            }
            try open!.writer.write(packet)
            lastTime = time
        }
        try close()
        return written
    }
}
