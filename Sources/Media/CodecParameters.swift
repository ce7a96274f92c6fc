internal import CFFmpeg

/// A stream's codec description (codec, size, extradata), owning its own copy of
/// FFmpeg's `AVCodecParameters`.
///
/// Copied out of the demuxer or encoder that produced it, so it outlives them and can be
/// handed to a decoder or a muxer on another thread. Immutable after creation.
public final class CodecParameters: @unchecked Sendable {  // immutable after init: no lock needed
    let pointer: UnsafeMutablePointer<AVCodecParameters>

    /// Copies `source`.
    init(copying source: UnsafePointer<AVCodecParameters>) {
        guard let pointer = avcodec_parameters_alloc() else { fatalError("avcodec_parameters_alloc: out of memory") }
        avcodec_parameters_copy(pointer, source)
        self.pointer = pointer
    }

    /// Copies a codec context's parameters (after an encoder was opened).
    init(context: UnsafePointer<AVCodecContext>) {
        guard let pointer = avcodec_parameters_alloc() else { fatalError("avcodec_parameters_alloc: out of memory") }
        avcodec_parameters_from_context(pointer, context)
        self.pointer = pointer
    }

    deinit {
        var pointer: UnsafeMutablePointer<AVCodecParameters>? = self.pointer
        avcodec_parameters_free(&pointer)
    }

    /// FFmpeg's short name of the codec ("h264", "hevc", "mjpeg").
    public var codecName: String { String(cString: avcodec_get_name(pointer.pointee.codec_id)) }
    public var isVideo: Bool { pointer.pointee.codec_type == AVMEDIA_TYPE_VIDEO }
    public var width: Int { Int(pointer.pointee.width) }
    public var height: Int { Int(pointer.pointee.height) }
    /// The shape the picture is shown in: width over height, times the sample aspect ratio
    /// (704x576 with 12:11 samples is 4:3); nil when the size is unknown.
    public var displayAspect: Double? {
        guard width > 0, height > 0 else { return nil }
        let sample = pointer.pointee.sample_aspect_ratio
        let ratio = sample.num > 0 && sample.den > 0 ? Double(sample.num) / Double(sample.den) : 1
        return Double(width) * ratio / Double(height)
    }
    /// Declared bit rate in bit/s, 0 when the stream does not say.
    public var bitRate: Int64 { pointer.pointee.bit_rate }
    /// Codec profile name, when FFmpeg knows it ("High", "Main").
    public var profileName: String? {
        guard let name = avcodec_profile_name(pointer.pointee.codec_id, pointer.pointee.profile) else { return nil }
        return String(cString: name)
    }
    /// Pixel format name ("yuv420p"), when known.
    public var pixelFormatName: String? {
        guard pointer.pointee.format >= 0, let name = av_get_pix_fmt_name(AVPixelFormat(pointer.pointee.format)) else {
            return nil
        }
        return String(cString: name)
    }
}
