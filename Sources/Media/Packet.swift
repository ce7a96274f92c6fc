internal import CFFmpeg

/// One compressed packet (an access unit of video), owning its `AVPacket`.
///
/// The packet is filled by its producer (a demuxer, an encoder, a simulated source)
/// and then published; after publication it is never changed, so several consumers
/// (recorder, decoder) may read it from their own threads. Consumers that need to
/// change timestamps (a muxer) take a `clone()`: the payload is reference-counted by
/// FFmpeg, so a clone copies no video data.
public final class Packet: @unchecked Sendable {  // immutable after publication (see above): no lock needed
    let pointer: UnsafeMutablePointer<AVPacket>
    /// The time base of `pts`, `dts` and `duration`.
    public internal(set) var timeBase: Rational

    init(taking pointer: UnsafeMutablePointer<AVPacket>, timeBase: Rational) {
        self.pointer = pointer
        self.timeBase = timeBase
    }

    /// A new, empty packet.
    convenience init(timeBase: Rational) {
        guard let pointer = av_packet_alloc() else { fatalError("av_packet_alloc: out of memory") }
        self.init(taking: pointer, timeBase: timeBase)
    }

    /// A packet made from bytes received from elsewhere (a recorder relaying a camera).
    public convenience init?(payload: UnsafeRawBufferPointer, pts: Int64?, dts: Int64?, duration: Int64, isKeyframe: Bool, timeBase: Rational) {
        guard payload.count > 0, payload.count < Int(Int32.max) - 64 else { return nil }
        self.init(timeBase: timeBase)
        guard av_new_packet(pointer, Int32(payload.count)) == 0, let data = pointer.pointee.data else { return nil }
        UnsafeMutableRawPointer(data).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
        if isKeyframe { pointer.pointee.flags |= vigie_pkt_flag_key() }
        setTimestamps(pts: pts, dts: dts, duration: duration, timeBase: timeBase)
    }

    deinit {
        var pointer: UnsafeMutablePointer<AVPacket>? = self.pointer
        av_packet_free(&pointer)
    }

    /// A new reference to the same payload, with its own timestamps.
    public func clone() -> Packet {
        guard let copy = av_packet_clone(pointer) else { fatalError("av_packet_clone: out of memory") }
        return Packet(taking: copy, timeBase: timeBase)
    }

    /// The index of the stream this packet belongs to in its source (producers set it before publication).
    public var streamIndex: Int {
        get { Int(pointer.pointee.stream_index) }
        set { pointer.pointee.stream_index = Int32(newValue) }
    }

    /// Presentation time in `timeBase`, nil when unknown.
    public var pts: Int64? {
        let value = pointer.pointee.pts
        return value == vigie_nopts_value() ? nil : value
    }

    /// Decoding time in `timeBase`, nil when unknown.
    public var dts: Int64? {
        let value = pointer.pointee.dts
        return value == vigie_nopts_value() ? nil : value
    }

    /// Duration in `timeBase` (0 when unknown).
    public var duration: Int64 { pointer.pointee.duration }

    /// True when the packet starts a keyframe (decoding can start here).
    public var isKeyframe: Bool { pointer.pointee.flags & vigie_pkt_flag_key() != 0 }

    /// Payload size in bytes.
    public var size: Int { Int(pointer.pointee.size) }

    /// Byte offset of the packet in the file it was read from, when the demuxer knows it.
    public var position: Int64? { pointer.pointee.pos >= 0 ? pointer.pointee.pos : nil }

    /// Sets all timestamps at once (producers only, before publication).
    public func setTimestamps(pts: Int64?, dts: Int64?, duration: Int64, timeBase: Rational) {
        pointer.pointee.pts = pts ?? vigie_nopts_value()
        pointer.pointee.dts = dts ?? vigie_nopts_value()
        pointer.pointee.duration = duration
        self.timeBase = timeBase
    }

    /// A new reference to the same payload with other timestamps (a remuxer moving it in time).
    public func retimed(pts: Int64?, dts: Int64?, duration: Int64, timeBase: Rational) -> Packet {
        let copy = clone()
        copy.setTimestamps(pts: pts, dts: dts, duration: duration, timeBase: timeBase)
        return copy
    }

    /// Reads the payload bytes (tests and checksums).
    public func withPayload<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: pointer.pointee.data, count: Int(pointer.pointee.size)))
    }
}
