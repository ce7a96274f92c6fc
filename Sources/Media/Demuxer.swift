internal import CFFmpeg

/// How RTSP media travel from the camera.
public enum RTSPTransport: String, Sendable, CaseIterable {
    /// Interleaved in the RTSP TCP connection: no loss, the default (UDP loss smears pictures).
    case tcp
    /// RTP over UDP, on request.
    case udp
}

/// What a `Demuxer` is asked to do when it opens a source.
public struct DemuxerOptions: Sendable {
    /// RTSP transport; ignored for other protocols.
    public var rtspTransport: RTSPTransport = .tcp
    /// Deadline for opening the source and reading its stream headers.
    public var connectTimeout: Duration = .seconds(10)
    /// Deadline for each packet read: past it the source counts as lost.
    public var readTimeout: Duration = .seconds(10)
    /// Force an input format ("mjpeg", "lavfi"); nil lets FFmpeg probe.
    public var formatName: String?
    /// Extra FFmpeg options (the `-opt value` of the ffmpeg command line).
    public var extraOptions: [String: String] = [:]
    /// The most streams a source may declare: a camera has a handful (video, audio,
    /// metadata). A hostile RTSP server can announce thousands of tracks, each costing
    /// about a megabyte and a SETUP round trip; past this FFmpeg ignores them.
    public var maximumStreams = 16
    /// Deliver a file's packets at the pace of their timestamps, as a camera would (a file
    /// used as a camera: recording it must not read a minute of it in a second).
    public var realTime = false

    public init(
        rtspTransport: RTSPTransport = .tcp, connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(10)
    ) {
        self.rtspTransport = rtspTransport
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }
}

/// One stream of an opened source.
public struct StreamInfo: Sendable {
    public let index: Int
    public let parameters: CodecParameters
    public let timeBase: Rational
    /// Average frame rate as the container states it (nil when unknown).
    public let averageFrameRate: Rational?
    /// FFmpeg's guess of the base frame rate (nil when unknown).
    public let realFrameRate: Rational?

    /// The best frame-rate figure available, in frames per second.
    public var framesPerSecond: Double? { averageFrameRate?.doubleValue ?? realFrameRate?.doubleValue }
}

/// Reads compressed packets from any libavformat input: rtsp://, http(s):// (MJPEG, HLS),
/// files, devices. Owns its `AVFormatContext` and closes it in `close()` or `deinit`.
///
/// Used from one thread. Another thread stops a blocked call with the `InterruptFlag`
/// passed in (shared with, for example, the camera's feed).
public final class Demuxer {
    private var context: UnsafeMutablePointer<AVFormatContext>?
    /// The interrupt flag FFmpeg polls for this source.
    public let interrupt: InterruptFlag
    private let options: DemuxerOptions
    /// The source, credentials removed (for messages).
    public let displayName: String
    /// All streams of the source.
    public let streams: [StreamInfo]
    /// The first video stream, the one Vigie shows and records.
    public let videoStream: StreamInfo?

    /// Opens `url`, reads its stream headers, and fails with `MediaError` (timed out,
    /// cancelled, or FFmpeg's error) within `options.connectTimeout`.
    public init(url: String, options: DemuxerOptions = DemuxerOptions(), interrupt: InterruptFlag = InterruptFlag())
        throws(MediaError)
    {
        MediaLibrary.initializeOnce()
        self.interrupt = interrupt
        self.options = options
        self.displayName = Redaction.redactAddress(url)

        guard var context = avformat_alloc_context() else {
            throw MediaError(kind: .ffmpeg, operation: "avformat_alloc_context", source: url, message: "out of memory")
        }
        context.pointee.interrupt_callback = interrupt.callback

        var dictionary: OpaquePointer? = nil
        defer { av_dict_free(&dictionary) }
        av_dict_set(&dictionary, "max_streams", String(max(1, options.maximumStreams)), 0)
        if url.hasPrefix("rtsp://") || url.hasPrefix("rtsps://") {
            av_dict_set(&dictionary, "rtsp_transport", options.rtspTransport.rawValue, 0)
            // Only the video is recorded and shown: no SETUP for audio or metadata tracks.
            av_dict_set(&dictionary, "allowed_media_types", "video", 0)
            if options.rtspTransport == .udp {
                av_dict_set(&dictionary, "buffer_size", "2097152", 0)
                av_dict_set(&dictionary, "reorder_queue_size", "64", 0)
            }
        }
        if options.extraOptions["analyzeduration"] == nil {
            av_dict_set(&dictionary, "analyzeduration", "2000000", 0)
        }
        for (key, value) in options.extraOptions { av_dict_set(&dictionary, key, value, 0) }

        var inputFormat: UnsafePointer<AVInputFormat>? = nil
        if let formatName = options.formatName {
            inputFormat = UnsafePointer(av_find_input_format(formatName))
            if inputFormat == nil {
                avformat_free_context(context)
                throw MediaError(
                    kind: .invalidArgument, operation: "av_find_input_format", source: url,
                    message: "unknown input format \(formatName)")
            }
        }

        interrupt.arm(timeout: options.connectTimeout)
        var contextOrNil: UnsafeMutablePointer<AVFormatContext>? = context
        var result = avformat_open_input(&contextOrNil, url, inputFormat, &dictionary)
        if result < 0 {
            // avformat_open_input frees the context when it fails.
            throw Demuxer.error(result, operation: "open", url: url, interrupt: interrupt)
        }
        context = contextOrNil!
        result = avformat_find_stream_info(context, nil)
        if result < 0 {
            avformat_close_input(&contextOrNil)
            throw Demuxer.error(result, operation: "read stream info", url: url, interrupt: interrupt)
        }
        interrupt.disarm()

        var streams: [StreamInfo] = []
        for index in 0..<Int(context.pointee.nb_streams) {
            guard let stream = context.pointee.streams[index] else { continue }
            let average = Rational(stream.pointee.avg_frame_rate)
            let real = Rational(stream.pointee.r_frame_rate)
            streams.append(
                StreamInfo(
                    index: index, parameters: CodecParameters(copying: stream.pointee.codecpar),
                    timeBase: Rational(stream.pointee.time_base),
                    averageFrameRate: average.doubleValue == nil ? nil : average,
                    realFrameRate: real.doubleValue == nil ? nil : real))
        }
        self.context = context
        self.streams = streams
        let best = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        self.videoStream = best >= 0 ? streams.first { $0.index == Int(best) } : nil
    }

    deinit { close() }

    /// The container format FFmpeg recognised ("rtsp", "matroska,webm", "mpegts").
    public var formatName: String {
        guard let context, let format = context.pointee.iformat else { return "?" }
        return String(cString: format.pointee.name)
    }

    /// Reads the next packet. Returns nil at the end of a file or stream (an outcome, not
    /// an error); throws on errors, timeouts (`readTimeout`) and cancellation.
    public func read() throws(MediaError) -> Packet? {
        guard let context else {
            throw MediaError(kind: .invalidArgument, operation: "read", source: displayName, message: "demuxer is closed")
        }
        guard let packet = av_packet_alloc() else {
            throw MediaError(kind: .ffmpeg, operation: "av_packet_alloc", source: displayName, message: "out of memory")
        }
        interrupt.arm(timeout: options.readTimeout)
        let result = av_read_frame(context, packet)
        interrupt.disarm()
        // Input that stops in the middle of a unit (a truncated file, an MJPEG stream
        // without a closing boundary) ends the stream too: FFmpeg reports it as invalid
        // data with the input at its end.
        let atEnd = result == FFmpegCode.invalidData && context.pointee.pb.map { avio_feof($0) != 0 } == true
        if result == FFmpegCode.endOfFile || atEnd {
            var owned: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&owned)
            return nil
        }
        if result < 0 {
            var owned: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&owned)
            throw Demuxer.error(result, operation: "read", url: displayName, interrupt: interrupt)
        }
        let stream = context.pointee.streams[Int(packet.pointee.stream_index)]!
        return Packet(taking: packet, timeBase: Rational(stream.pointee.time_base))
    }

    /// Seeks the stream `streamIndex` to the keyframe at or before `timestamp` (in that
    /// stream's time base).
    public func seek(streamIndex: Int, toKeyframeBefore timestamp: Int64) throws(MediaError) {
        guard let context else { return }
        interrupt.arm(timeout: options.readTimeout)
        let result = av_seek_frame(context, Int32(streamIndex), timestamp, AVSEEK_FLAG_BACKWARD)
        interrupt.disarm()
        if result < 0 { throw Demuxer.error(result, operation: "seek", url: displayName, interrupt: interrupt) }
    }

    /// Moves the read position to a byte offset of the file (a keyframe's offset from a
    /// recording's index); the demuxer resynchronises on the container's packets there.
    public func seek(byteOffset: Int64) throws(MediaError) {
        guard let context else { return }
        interrupt.arm(timeout: options.readTimeout)
        let result = av_seek_frame(context, -1, byteOffset, AVSEEK_FLAG_BYTE)
        interrupt.disarm()
        if result < 0 { throw Demuxer.error(result, operation: "seek", url: displayName, interrupt: interrupt) }
    }

    /// The first timestamp of the input in seconds, when the container says it.
    public var startTime: Double? {
        guard let context, context.pointee.start_time != vigie_nopts_value() else { return nil }
        return Double(context.pointee.start_time) / Double(vigie_av_time_base())
    }

    /// Closes the source now (also done by `deinit`).
    public func close() {
        if context != nil { avformat_close_input(&context) }
    }

    private static func error(_ code: Int32, operation: String, url: String, interrupt: InterruptFlag) -> MediaError {
        if code == FFmpegCode.exit || interrupt.isCancelled || interrupt.didTimeOut {
            if interrupt.isCancelled {
                return MediaError(kind: .cancelled, code: code, operation: operation, source: url, message: "cancelled")
            }
            return MediaError(kind: .timedOut, code: code, operation: operation, source: url, message: "timed out")
        }
        return MediaError(code: code, operation: operation, source: url)
    }
}

/// Process-wide FFmpeg set-up, done once.
enum MediaLibrary {
    private static let initialized: Bool = {
        avformat_network_init()
        FFmpegLog.quietUnlessInstalled()
        return true
    }()

    static func initializeOnce() { _ = initialized }
}
