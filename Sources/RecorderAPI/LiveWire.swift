import Foundation

/// Live pictures relayed by the recorder: a WebSocket on GET /v1/live/{camera}/{main|sub}.
/// The recorder opens each camera stream once, whatever the number of consoles, and sends
/// each console the compressed packets (no re-encoding); the console decodes what it shows.
///
/// Text frames are JSON messages (`LiveMessage`): first the stream's description, again
/// whenever the camera's stream starts anew, and `lost` when the camera is lost. Binary
/// frames are packets: a 34-byte header (`LivePacketHeader`, big-endian), then the payload.
/// A new viewer gets the stream's description and the group of pictures since the last
/// keyframe at once (so a tile paints at once on a zap); a viewer that falls behind skips
/// to the next keyframe.
///
/// Recordings are played the same way, on a WebSocket on GET /v1/playback/{camera}?at=MICROS:
/// a `stream` message per segment (with `origin`, the UTC time of timestamp zero, and
/// `segment`), its packets from the keyframe at or before `at`, then the next segment's,
/// and `end` after the last recorded packet. The recorder sends as fast as the console reads
/// (TCP's flow control paces it): the console decodes and paces the pictures itself, and a
/// seek is a new request.
public struct LiveMessage: Codable, Sendable, Hashable {
    /// "stream", "lost" (live), "end" (playback).
    public var type: String
    public var codec: String?
    public var width: Int?
    public var height: Int?
    /// Sample aspect ratio [num, den], when not square.
    public var sampleAspect: [Int32]?
    /// The packets' time base [num, den].
    public var timeBase: [Int32]?
    public var framesPerSecond: Double?
    /// The codec's extradata, base64.
    public var extradata: String?
    /// For `lost`: why.
    public var reason: String?
    /// For a played segment: the UTC time of timestamp zero, microseconds since 1970.
    public var origin: Int64?
    /// For a played segment: its path in the recordings.
    public var segment: String?

    public init(
        type: String, codec: String? = nil, width: Int? = nil, height: Int? = nil, sampleAspect: [Int32]? = nil, timeBase: [Int32]? = nil,
        framesPerSecond: Double? = nil, extradata: String? = nil, reason: String? = nil, origin: Int64? = nil, segment: String? = nil
    ) {
        self.origin = origin
        self.segment = segment
        self.type = type
        self.codec = codec
        self.width = width
        self.height = height
        self.sampleAspect = sampleAspect
        self.timeBase = timeBase
        self.framesPerSecond = framesPerSecond
        self.extradata = extradata
        self.reason = reason
    }
}

/// The header of a packet frame: "P", flags (bit 0: keyframe), then pts, dts, duration (in
/// the stream's time base; Int64.min: unknown) and when the recorder received it
/// (microseconds since 1970), each 8 bytes big-endian.
public struct LivePacketHeader: Sendable, Hashable {
    public static let size = 34
    public var isKeyframe: Bool
    public var pts: Int64?
    public var dts: Int64?
    public var duration: Int64
    public var receivedMicros: Int64

    public init(isKeyframe: Bool, pts: Int64?, dts: Int64?, duration: Int64, receivedMicros: Int64) {
        self.isKeyframe = isKeyframe
        self.pts = pts
        self.dts = dts
        self.duration = duration
        self.receivedMicros = receivedMicros
    }

    public var bytes: [UInt8] {
        // One allocation: the relay makes one a packet.
        var out = [UInt8]()
        out.reserveCapacity(LivePacketHeader.size)
        out.append(UInt8(ascii: "P"))
        out.append(isKeyframe ? 1 : 0)
        func append(_ value: Int64) { withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) } }
        append(pts ?? .min)
        append(dts ?? .min)
        append(duration)
        append(receivedMicros)
        return out
    }

    /// Reads a header from the start of a frame; nil when it is not one.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> LivePacketHeader? {
        guard bytes.count >= size, bytes[0] == UInt8(ascii: "P"), bytes[1] & ~1 == 0 else { return nil }
        func value(_ index: Int) -> Int64 {
            var raw: Int64 = 0
            for offset in 0..<8 { raw = raw << 8 | Int64(bytes[2 + index * 8 + offset]) }
            return raw
        }
        let pts = value(0), dts = value(1)
        return LivePacketHeader(isKeyframe: bytes[1] & 1 == 1, pts: pts == .min ? nil : pts, dts: dts == .min ? nil : dts, duration: value(2), receivedMicros: value(3))
    }
}
