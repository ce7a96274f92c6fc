internal import CFFmpeg

/// Decodes one stream's packets into `Frame`s. Owns its `AVCodecContext`.
///
/// Used from one thread (a camera's receive thread). EAGAIN and end of stream are
/// outcomes (`receive()` returns nil), not errors.
public final class Decoder {
    private var context: UnsafeMutablePointer<AVCodecContext>?
    private let timeBase: Rational
    /// FFmpeg's name for the decoder in use ("h264").
    public let codecName: String

    /// Opens a decoder for `parameters`. `threads` 0 lets FFmpeg choose; `keyframesOnly`
    /// skips every non-key frame (cheap previews of long footage); `forPreview` skips the
    /// deblocking filter and allows FFmpeg's non-bit-exact speed-ups: for pictures shown
    /// at a fraction of their size (wall tiles, terminal views), never for exports.
    public init(
        parameters: CodecParameters, timeBase: Rational, threads: Int = 1, keyframesOnly: Bool = false, forPreview: Bool = false
    ) throws(MediaError) {
        guard let codec = avcodec_find_decoder(parameters.pointer.pointee.codec_id) else {
            throw MediaError(
                kind: .unsupportedCodec, operation: "avcodec_find_decoder",
                message: "no decoder for \(parameters.codecName) in this FFmpeg build")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw MediaError(kind: .ffmpeg, operation: "avcodec_alloc_context3", message: "out of memory")
        }
        var result = avcodec_parameters_to_context(context, parameters.pointer)
        if result >= 0 {
            context.pointee.thread_count = Int32(threads)
            context.pointee.pkt_timebase = timeBase.av
            if keyframesOnly { context.pointee.skip_frame = AVDISCARD_NONKEY }
            if forPreview {
                context.pointee.skip_loop_filter = AVDISCARD_ALL
                context.pointee.flags2 |= Int32(AV_CODEC_FLAG2_FAST)
            }
            result = avcodec_open2(context, codec, nil)
        }
        if result < 0 {
            var owned: UnsafeMutablePointer<AVCodecContext>? = context
            avcodec_free_context(&owned)
            throw MediaError(code: result, operation: "open decoder \(parameters.codecName)")
        }
        self.context = context
        self.timeBase = timeBase
        self.codecName = String(cString: codec.pointee.name)
    }

    deinit { avcodec_free_context(&context) }

    /// Sends a packet (nil to drain at end of stream). Returns false when the decoder
    /// is full (EAGAIN): call `receive()` until it returns nil, then send again.
    @discardableResult
    public func send(_ packet: Packet?) throws(MediaError) -> Bool {
        let result = avcodec_send_packet(context, packet?.pointer)
        if result == FFmpegCode.again { return false }
        if result == FFmpegCode.endOfFile { return true }
        if result < 0 { throw MediaError(code: result, operation: "decode (send packet)") }
        return true
    }

    /// The next decoded frame, or nil when the decoder needs more input or is drained.
    public func receive() throws(MediaError) -> Frame? {
        let frame = Frame(timeBase: timeBase)
        let result = avcodec_receive_frame(context, frame.pointer)
        if result == FFmpegCode.again || result == FFmpegCode.endOfFile { return nil }
        if result < 0 { throw MediaError(code: result, operation: "decode (receive frame)") }
        return frame
    }

    /// Forgets buffered frames (after a seek or a reconnect).
    public func flush() { avcodec_flush_buffers(context) }
}
