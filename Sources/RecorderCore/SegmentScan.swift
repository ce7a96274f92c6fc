public import Foundation
public import Media

/// What a segment file holds, read back with the demuxer: its stream time, keyframes
/// (with their byte offsets) and packets. Recovery after a crash and `verify` use it.
public struct SegmentScan: Sendable {
    /// How Vigie's own segments are opened: MPEG-TS, parameters from the first keyframe
    /// (a short probe: FFmpeg's default would decode seconds of video before the first frame).
    public static var demuxerOptions: DemuxerOptions {
        var options = DemuxerOptions()
        options.formatName = "mpegts"
        options.extraOptions = ["analyzeduration": "0", "probesize": "65536", "fpsprobesize": "0"]
        return options
    }

    public var packets = 0
    public var firstPTS: Double?
    public var lastPTS: Double?
    public var lastDuration = 0.0
    public var keyframes: [KeyframeMark] = []
    /// Stream time covered, first packet to the end of the last.
    public var duration: Double {
        guard let firstPTS, let lastPTS else { return 0 }
        return lastPTS - firstPTS + lastDuration
    }

    /// The picture size of a segment's video (from its headers).
    public static func streamSize(_ url: URL) throws(MediaError) -> (width: Int, height: Int) {
        let options = SegmentScan.demuxerOptions
        let demuxer = try Demuxer(url: url.path, options: options)
        defer { demuxer.close() }
        guard let video = demuxer.videoStream else {
            throw MediaError(kind: .noVideoStream, operation: "play", source: url.lastPathComponent, message: "no video")
        }
        return (video.parameters.width, video.parameters.height)
    }

    /// Reads the whole file; a file cut short by a crash reads up to its last whole packet.
    public static func scan(_ url: URL) throws(MediaError) -> SegmentScan {
        let options = SegmentScan.demuxerOptions
        let demuxer = try Demuxer(url: url.path, options: options)
        defer { demuxer.close() }
        var scan = SegmentScan()
        guard let video = demuxer.videoStream else { return scan }
        while let packet = try? demuxer.read() {
            guard packet.streamIndex == video.index, let pts = packet.pts.map({ packet.timeBase.seconds($0) }) else { continue }
            scan.packets += 1
            if scan.firstPTS == nil { scan.firstPTS = pts }
            scan.lastPTS = max(scan.lastPTS ?? pts, pts)
            scan.lastDuration = packet.duration > 0 ? packet.timeBase.seconds(packet.duration) : 1 / (video.framesPerSecond ?? 25)
            if packet.isKeyframe, let position = packet.position {
                scan.keyframes.append(KeyframeMark(offset: pts - scan.firstPTS!, byte: position))
            }
        }
        return scan
    }
}
