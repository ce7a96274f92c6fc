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

    /// A video stream's description received from elsewhere (a recorder relaying a camera):
    /// the codec by FFmpeg's name, the size, the sample aspect ratio and the codec's
    /// extradata (SPS/PPS). Nil when FFmpeg has no such decoder or the size is not sane.
    public convenience init?(videoCodec name: String, width: Int, height: Int, sampleAspect: Rational?, extradata: [UInt8]) {
        guard let codec = avcodec_find_decoder_by_name(name), (1...16384).contains(width), (1...16384).contains(height), extradata.count <= 1 << 20,
            let pointer = avcodec_parameters_alloc()
        else { return nil }
        pointer.pointee.codec_type = AVMEDIA_TYPE_VIDEO
        pointer.pointee.codec_id = codec.pointee.id
        pointer.pointee.width = Int32(width)
        pointer.pointee.height = Int32(height)
        if let sampleAspect { pointer.pointee.sample_aspect_ratio = AVRational(num: sampleAspect.numerator, den: sampleAspect.denominator) }
        if !extradata.isEmpty {
            let padded = extradata.count + Int(AV_INPUT_BUFFER_PADDING_SIZE)
            guard let buffer = av_mallocz(padded)?.assumingMemoryBound(to: UInt8.self) else {
                var owned: UnsafeMutablePointer<AVCodecParameters>? = pointer
                avcodec_parameters_free(&owned)
                return nil
            }
            extradata.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: extradata.count) }
            pointer.pointee.extradata = buffer
            pointer.pointee.extradata_size = Int32(extradata.count)
        }
        self.init(owning: pointer)
    }

    /// A timed-text stream (3GPP TS 26.245, `tx3g`: MP4's subtitles, what `mov_text` is in
    /// FFmpeg), with its sample description (`extradata`): the export's date-and-time track.
    public convenience init?(timedTextSampleDescription extradata: [UInt8]) {
        guard !extradata.isEmpty, extradata.count <= 4096, let pointer = avcodec_parameters_alloc() else { return nil }
        pointer.pointee.codec_type = AVMEDIA_TYPE_SUBTITLE
        pointer.pointee.codec_id = AV_CODEC_ID_MOV_TEXT
        guard let buffer = av_mallocz(extradata.count + Int(AV_INPUT_BUFFER_PADDING_SIZE))?.assumingMemoryBound(to: UInt8.self) else {
            var owned: UnsafeMutablePointer<AVCodecParameters>? = pointer
            avcodec_parameters_free(&owned)
            return nil
        }
        extradata.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: extradata.count) }
        pointer.pointee.extradata = buffer
        pointer.pointee.extradata_size = Int32(extradata.count)
        self.init(owning: pointer)
    }

    /// Whether two streams' packets can follow each other in one track (same codec, size and parameter sets).
    public func sameStream(as other: CodecParameters) -> Bool {
        codecName == other.codecName && width == other.width && height == other.height && extradata == other.extradata
    }

    private init(owning pointer: UnsafeMutablePointer<AVCodecParameters>) { self.pointer = pointer }

    /// The codec's extradata (for H.264 and HEVC: the parameter sets), to describe the stream elsewhere.
    public var extradata: [UInt8] {
        guard let data = pointer.pointee.extradata, pointer.pointee.extradata_size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(pointer.pointee.extradata_size)))
    }

    /// The sample aspect ratio, nil when unknown (square).
    public var sampleAspect: Rational? {
        let sample = pointer.pointee.sample_aspect_ratio
        return sample.num > 0 && sample.den > 0 ? Rational(sample.num, sample.den) : nil
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
