internal import CFFmpeg

/// What to encode and how.
public struct EncoderSettings: Sendable {
    public var width: Int
    public var height: Int
    public var framesPerSecond: Int
    /// Keyframe interval in frames.
    public var keyframeInterval: Int
    /// Target bit rate in bit/s.
    public var bitRate: Int
    /// Encoders to try, best first: the first one this FFmpeg build has is used.
    public var codecPreference: [String] = ["libx264", "mpeg4", "mjpeg"]
    /// libx264 preset (speed against size).
    public var preset: String = "ultrafast"
    public var threads: Int = 1
    /// Put codec headers in the stream parameters (Matroska, MP4) rather than in-band.
    public var globalHeader: Bool = true

    public init(width: Int, height: Int, framesPerSecond: Int, keyframeInterval: Int, bitRate: Int) {
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
        self.keyframeInterval = keyframeInterval
        self.bitRate = bitRate
    }
}

/// Encodes `YUV420Image`s into packets (H.264 when libx264 is present, else another
/// built-in encoder). Owns its `AVCodecContext` and one reusable `AVFrame`. Used by the
/// simulator to build its camera footage once; used from one thread.
public final class Encoder {
    private var context: UnsafeMutablePointer<AVCodecContext>?
    private let frame: Frame
    /// The encoder FFmpeg opened ("libx264").
    public let codecName: String
    /// Time base of the packets' timestamps: one tick per frame.
    public let timeBase: Rational
    /// The stream description for a muxer (valid after init).
    public let parameters: CodecParameters
    public let settings: EncoderSettings

    public init(settings: EncoderSettings) throws(MediaError) {
        MediaLibrary.initializeOnce()
        guard settings.width > 0, settings.height > 0, settings.width % 2 == 0, settings.height % 2 == 0 else {
            throw MediaError(
                kind: .invalidArgument, operation: "encoder",
                message: "size \(settings.width)x\(settings.height) must be positive and even")
        }
        var found: UnsafePointer<AVCodec>? = nil
        for name in settings.codecPreference {
            if let codec = avcodec_find_encoder_by_name(name) {
                found = codec
                break
            }
        }
        guard let codec = found else {
            throw MediaError(
                kind: .unsupportedCodec, operation: "avcodec_find_encoder_by_name",
                message: "none of \(settings.codecPreference.joined(separator: ", ")) is in this FFmpeg build")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw MediaError(kind: .ffmpeg, operation: "avcodec_alloc_context3", message: "out of memory")
        }
        let name = String(cString: codec.pointee.name)
        let timeBase = Rational(1, Int32(settings.framesPerSecond))
        context.pointee.width = Int32(settings.width)
        context.pointee.height = Int32(settings.height)
        context.pointee.time_base = timeBase.av
        context.pointee.framerate = AVRational(num: Int32(settings.framesPerSecond), den: 1)
        context.pointee.gop_size = Int32(settings.keyframeInterval)
        context.pointee.max_b_frames = 0
        context.pointee.bit_rate = Int64(settings.bitRate)
        context.pointee.thread_count = Int32(settings.threads)
        context.pointee.pix_fmt = name == "mjpeg" ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P
        if settings.globalHeader { context.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER) }
        var options: OpaquePointer? = nil
        defer { av_dict_free(&options) }
        if name == "libx264" {
            av_dict_set(&options, "preset", settings.preset, 0)
            // Fixed keyframe interval, no scene-cut keyframes: a camera's GOP is regular.
            av_dict_set(&options, "x264-params", "scenecut=0:keyint-min=\(settings.keyframeInterval)", 0)
        }
        let result = avcodec_open2(context, codec, &options)
        if result < 0 {
            var owned: UnsafeMutablePointer<AVCodecContext>? = context
            avcodec_free_context(&owned)
            throw MediaError(code: result, operation: "open encoder \(name)")
        }
        let frame = Frame(timeBase: timeBase)
        frame.pointer.pointee.width = Int32(settings.width)
        frame.pointer.pointee.height = Int32(settings.height)
        frame.pointer.pointee.format = context.pointee.pix_fmt.rawValue
        if av_frame_get_buffer(frame.pointer, 0) < 0 {
            var owned: UnsafeMutablePointer<AVCodecContext>? = context
            avcodec_free_context(&owned)
            throw MediaError(kind: .ffmpeg, operation: "av_frame_get_buffer", message: "out of memory")
        }
        self.context = context
        self.frame = frame
        self.codecName = name
        self.timeBase = timeBase
        self.parameters = CodecParameters(context: context)
        self.settings = settings
    }

    deinit { avcodec_free_context(&context) }

    /// Encodes one picture shown at `frameNumber` (in frames); returns the packets ready.
    public func encode(_ image: YUV420Image, frameNumber: Int64) throws(MediaError) -> [Packet] {
        precondition(image.width == settings.width && image.height == settings.height, "Encoder: wrong image size")
        if av_frame_make_writable(frame.pointer) < 0 {
            throw MediaError(kind: .ffmpeg, operation: "av_frame_make_writable", message: "out of memory")
        }
        copyPlane(image.luma, width: image.width, height: image.height, plane: 0)
        copyPlane(image.blueDifference, width: image.width / 2, height: image.height / 2, plane: 1)
        copyPlane(image.redDifference, width: image.width / 2, height: image.height / 2, plane: 2)
        frame.pointer.pointee.pts = frameNumber
        return try exchange(frame.pointer)
    }

    /// Drains the encoder at the end of the footage.
    public func flush() throws(MediaError) -> [Packet] { try exchange(nil) }

    private func copyPlane(_ plane: [UInt8], width: Int, height: Int, plane index: Int) {
        let destination = withUnsafePointer(to: &frame.pointer.pointee.data) {
            $0.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { $0[index]! }
        }
        let stride = withUnsafePointer(to: &frame.pointer.pointee.linesize) {
            $0.withMemoryRebound(to: Int32.self, capacity: 8) { Int($0[index]) }
        }
        plane.withUnsafeBufferPointer { source in
            for row in 0..<height {
                (destination + row * stride).update(from: source.baseAddress! + row * width, count: width)
            }
        }
    }

    private func exchange(_ input: UnsafeMutablePointer<AVFrame>?) throws(MediaError) -> [Packet] {
        let sent = avcodec_send_frame(context, input)
        if sent < 0 && sent != FFmpegCode.endOfFile { throw MediaError(code: sent, operation: "encode (send frame)") }
        var packets: [Packet] = []
        while true {
            let packet = Packet(timeBase: timeBase)
            let result = avcodec_receive_packet(context, packet.pointer)
            if result == FFmpegCode.again || result == FFmpegCode.endOfFile { break }
            if result < 0 { throw MediaError(code: result, operation: "encode (receive packet)") }
            // One frame per packet: containers that need durations (MP4) get them.
            if packet.pointer.pointee.duration == 0 { packet.pointer.pointee.duration = 1 }
            packets.append(packet)
        }
        return packets
    }
}
