#if canImport(Glibc)
import Glibc
#endif

/// Anything that delivers a camera's compressed video packets: a network or file source
/// (`DemuxerSource`) or a simulated camera. The camera's receive loop owns one and is the
/// only thread that calls it; `close()` may come from another thread to stop a blocked read.
public protocol PacketSource: AnyObject {
    /// The video stream: codec parameters and the time base of the packets' timestamps.
    var video: StreamInfo { get }
    /// How the packets arrive ("rtsp/tcp", "rtsp/udp", "file", "sim"), for status screens.
    var transport: String { get }
    /// The next video packet; nil at the end of a finite source. Throws when the source is
    /// lost (timeout, connection closed, cancelled).
    func read() throws(MediaError) -> Packet?
    /// Stops a blocked `read()` promptly; safe from any thread.
    var interrupt: InterruptFlag { get }
}

/// A `PacketSource` over any libavformat input, keeping only its video stream.
public final class DemuxerSource: PacketSource {
    public let demuxer: Demuxer
    public let video: StreamInfo
    public let transport: String
    private let realTime: Bool
    /// Monotonic seconds and stream seconds of the first packet paced.
    private var paceOrigin: (wall: Double, media: Double)?

    public init(url: String, options: DemuxerOptions = DemuxerOptions(), interrupt: InterruptFlag = InterruptFlag())
        throws(MediaError)
    {
        let demuxer = try Demuxer(url: url, options: options, interrupt: interrupt)
        guard let video = demuxer.videoStream else {
            throw MediaError(
                kind: .noVideoStream, operation: "open", source: url, message: "the source has no video stream")
        }
        self.demuxer = demuxer
        self.video = video
        self.realTime = options.realTime
        if url.hasPrefix("rtsp") {
            transport = "rtsp/\(options.rtspTransport.rawValue)"
        } else if let scheme = url.split(separator: ":", maxSplits: 1).first, url.dropFirst(scheme.count).hasPrefix("://") {
            transport = String(scheme)
        } else {
            transport = "file"
        }
    }

    public var interrupt: InterruptFlag { demuxer.interrupt }

    public func read() throws(MediaError) -> Packet? {
        while let packet = try demuxer.read() {
            guard packet.streamIndex == video.index else { continue }
            if realTime { try pace(packet) }
            return packet
        }
        return nil
    }

    /// Waits until the packet is due, its decoding time after the first one's.
    private func pace(_ packet: Packet) throws(MediaError) {
        guard let stamp = packet.dts ?? packet.pts else { return }
        let media = packet.timeBase.seconds(stamp)
        let now = Double(MonotonicClock.nanoseconds()) / 1e9
        guard let origin = paceOrigin, media >= origin.media - 1 else {
            paceOrigin = (now, media)  // the first packet, or timestamps that went back: start the clock again
            return
        }
        let due = origin.wall + (media - origin.media)
        while true {
            let left = due - Double(MonotonicClock.nanoseconds()) / 1e9
            if left <= 0.000_5 { return }
            if demuxer.interrupt.isCancelled {
                throw MediaError(kind: .cancelled, operation: "read", source: demuxer.displayName, message: "cancelled")
            }
            usleep(UInt32(min(left, 0.1) * 1_000_000))
        }
    }
}

extension StreamInfo {
    /// A stream description for sources that are not a demuxer (the simulator).
    public init(parameters: CodecParameters, timeBase: Rational, framesPerSecond: Int) {
        self.init(
            index: 0, parameters: parameters, timeBase: timeBase,
            averageFrameRate: Rational(Int32(framesPerSecond), 1), realFrameRate: Rational(Int32(framesPerSecond), 1))
    }
}
