public import Foundation
public import Media

/// A simulated camera's stream: its footage file replayed at real-time pace, forever,
/// with continuous timestamps (90 kHz ticks since the Unix epoch, as an RTP clock would
/// give), so every simulated camera shows loop time T mod loop at wall time T.
///
/// On start it seeks to the keyframe before "now" and sends that group of pictures at
/// once, as camera servers with a GOP cache do, so a viewer gets a picture at once.
///
/// Given `replayFrom`, it is the camera's footage from that moment on, as fast as it is
/// read (what the camera showed then: `vigie sim archive` writes past periods with it).
public final class SimulatedSource: PacketSource {
    private var demuxer: Demuxer
    private let footage: URL
    private let framesPerSecond: Int
    private let loopFrames: Int
    private let ticksPerFrame: Int64
    private var loopIndex: Int64
    private let paced: Bool
    public let video: StreamInfo
    public let interrupt: InterruptFlag
    public let transport = "sim"

    public init(footage: URL, framesPerSecond: Int, loopSeconds: Int, interrupt: InterruptFlag = InterruptFlag(), replayFrom: Date? = nil)
        throws(MediaError)
    {
        paced = replayFrom == nil
        self.footage = footage
        self.framesPerSecond = framesPerSecond
        self.loopFrames = loopSeconds * framesPerSecond
        self.ticksPerFrame = Int64(90_000 / framesPerSecond)
        self.interrupt = interrupt
        // Our own Matroska files carry their codec parameters: a short probe is enough
        // (FFmpeg's default would decode seconds of 720p on every connection).
        var options = DemuxerOptions()
        options.extraOptions = ["analyzeduration": "100000"]
        demuxer = try Demuxer(url: footage.path, options: options, interrupt: interrupt)
        guard let stream = demuxer.videoStream else {
            throw MediaError(kind: .noVideoStream, operation: "open", source: footage.path, message: "no video in footage")
        }
        video = StreamInfo(parameters: stream.parameters, timeBase: .mpeg90kHz, framesPerSecond: framesPerSecond)
        let now = Int64(((replayFrom ?? Date()).timeIntervalSince1970 * Double(framesPerSecond)).rounded(.down))
        loopIndex = now / Int64(loopFrames)
        let phase = now % Int64(loopFrames)
        let target = Rational(1, Int32(framesPerSecond)).rescale(phase, to: stream.timeBase)
        try demuxer.seek(streamIndex: stream.index, toKeyframeBefore: target)
    }

    public func read() throws(MediaError) -> Packet? {
        while true {
            guard let packet = try demuxer.read() else {
                // End of the loop: back to its start (a seek, not a new probe), one loop later.
                try demuxer.seek(streamIndex: demuxer.videoStream?.index ?? 0, toKeyframeBefore: 0)
                loopIndex += 1
                continue
            }
            guard packet.streamIndex == demuxer.videoStream?.index, let pts = packet.pts else { continue }
            let frameInLoop = Int64((packet.timeBase.seconds(pts) * Double(framesPerSecond)).rounded())
            let frame = loopIndex * Int64(loopFrames) + frameInLoop
            if paced {
                try waitUntil(unixSeconds: Double(frame) / Double(framesPerSecond))
            } else if interrupt.isCancelled {
                throw MediaError(kind: .cancelled, operation: "read", source: footage.lastPathComponent, message: "cancelled")
            }
            let ticks = frame * ticksPerFrame
            packet.setTimestamps(pts: ticks, dts: ticks, duration: ticksPerFrame, timeBase: .mpeg90kHz)
            packet.streamIndex = 0
            return packet
        }
    }

    /// Sleeps until the wall clock reaches `unixSeconds`, in short naps so `cancel()` is prompt.
    private func waitUntil(unixSeconds: Double) throws(MediaError) {
        while true {
            if interrupt.isCancelled {
                throw MediaError(kind: .cancelled, operation: "read", source: footage.lastPathComponent, message: "cancelled")
            }
            let remaining = unixSeconds - Date().timeIntervalSince1970
            if remaining <= 0 { return }
            usleep(UInt32(min(remaining, 0.05) * 1_000_000))
        }
    }
}

/// Opens `sim://CAMERA/main` and `sim://CAMERA/sub` sources of one simulated city.
public struct SimulatedCityRuntime: Sendable {
    public let city: SimulatedCity
    public let cache: SimulatedFootageCache
    public let timeZone: TimeZone

    public init(city: SimulatedCity, cache: SimulatedFootageCache = SimulatedFootageCache(), timeZone: TimeZone) {
        self.city = city
        self.cache = cache
        self.timeZone = timeZone
    }

    /// Splits a `sim://` URL into its camera and stream, or nil when it is not one.
    public static func parse(_ url: String) -> (camera: String, stream: SimulatedStream)? {
        guard url.hasPrefix("sim://") else { return nil }
        let parts = url.dropFirst("sim://".count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let stream = SimulatedStream(rawValue: String(parts[1])) else {
            return nil
        }
        return (String(parts[0]), stream)
    }

    /// Opens a source; builds the camera's footage first when it is not cached yet.
    public func open(url: String, interrupt: InterruptFlag = InterruptFlag(), replayFrom: Date? = nil) throws(MediaError) -> SimulatedSource {
        guard let (camera, stream) = SimulatedCityRuntime.parse(url) else {
            throw MediaError(
                kind: .invalidArgument, operation: "open", source: url,
                message: "a simulated source is sim://CAMERA/main or sim://CAMERA/sub")
        }
        let file = try cache.footage(city: city, camera: camera, stream: stream, timeZone: timeZone, interrupt: interrupt)
        return try SimulatedSource(
            footage: file, framesPerSecond: city.framesPerSecond, loopSeconds: city.loopSeconds, interrupt: interrupt, replayFrom: replayFrom)
    }
}
