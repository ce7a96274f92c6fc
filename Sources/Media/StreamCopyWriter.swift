internal import CFFmpeg

/// Writes packets into a file without re-encoding (stream copy): the remuxer the recorder
/// cuts segments with, and the simulator stores its footage with.
///
/// Owns its output `AVFormatContext` and its `AVIOContext`. `close()` writes the trailer
/// and closes the file; it can fail, so it is explicit. Used from one thread.
public final class StreamCopyWriter {
    private var context: UnsafeMutablePointer<AVFormatContext>?
    private var inputTimeBases: [Rational] = []
    private var lastDTS: [Int64?] = []
    public let path: String
    /// Packets written so far.
    public private(set) var packetCount = 0
    /// Payload bytes written so far (before container overhead).
    public private(set) var payloadBytes = 0

    /// Creates `path` with one output stream per `streams` entry (codec parameters and the
    /// time base the packets will arrive in). `formatName` nil picks the format from the
    /// file name (".ts" MPEG-TS, ".mkv" Matroska, ".mp4").
    /// `metadata`: the container's tags (`creation_time` as ISO 8601 UTC, `title`...).
    public init(path: String, formatName: String? = nil, streams: [(CodecParameters, Rational)], metadata: [String: String] = [:]) throws(MediaError) {
        MediaLibrary.initializeOnce()
        self.path = path
        var contextOrNil: UnsafeMutablePointer<AVFormatContext>? = nil
        var result = avformat_alloc_output_context2(&contextOrNil, nil, formatName, path)
        guard result >= 0, let context = contextOrNil else {
            throw MediaError(code: result < 0 ? result : FFmpegCode.invalidData, operation: "create output", source: path)
        }
        for (parameters, timeBase) in streams {
            guard let stream = avformat_new_stream(context, nil) else {
                avformat_free_context(context)
                throw MediaError(kind: .ffmpeg, operation: "avformat_new_stream", source: path, message: "out of memory")
            }
            avcodec_parameters_copy(stream.pointee.codecpar, parameters.pointer)
            stream.pointee.codecpar.pointee.codec_tag = 0
            stream.pointee.time_base = timeBase.av
            inputTimeBases.append(timeBase)
            lastDTS.append(nil)
        }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { av_dict_set(&context.pointee.metadata, key, value, 0) }
        if context.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 {
            result = avio_open(&context.pointee.pb, path, AVIO_FLAG_WRITE)
            if result < 0 {
                avformat_free_context(context)
                throw MediaError(code: result, operation: "open for writing", source: path)
            }
        }
        result = avformat_write_header(context, nil)
        if result < 0 {
            avio_closep(&context.pointee.pb)
            avformat_free_context(context)
            throw MediaError(code: result, operation: "write header", source: path)
        }
        self.context = context
    }

    deinit {
        if context != nil {
            // An owner that forgot close(): finish the file anyway so nothing is lost.
            try? close()
        }
    }

    /// Writes `packet` as stream `streamIndex`. The packet itself is not changed (a clone
    /// with rescaled timestamps goes to the muxer), so it may be shared with other consumers.
    public func write(_ packet: Packet, streamIndex: Int = 0) throws(MediaError) {
        guard let context else {
            throw MediaError(kind: .invalidArgument, operation: "write", source: path, message: "writer is closed")
        }
        let copy = packet.clone()
        let stream = context.pointee.streams[streamIndex]!
        copy.pointer.pointee.stream_index = Int32(streamIndex)
        av_packet_rescale_ts(copy.pointer, packet.timeBase.av, stream.pointee.time_base)
        // Muxers refuse non-increasing DTS; a camera's clock can jump back, so nudge it.
        if let previous = lastDTS[streamIndex], let dts = copy.dts, dts <= previous {
            let shift = previous + 1 - dts
            copy.pointer.pointee.dts = dts + shift
            if let pts = copy.pts { copy.pointer.pointee.pts = max(pts + shift, dts + shift) }
        }
        lastDTS[streamIndex] = copy.dts
        let size = copy.size
        let result = av_interleaved_write_frame(context, copy.pointer)
        if result < 0 { throw MediaError(code: result, operation: "write packet", source: path) }
        // The I/O layer keeps a write error (a full disk) to itself until asked.
        if let pb = context.pointee.pb, pb.pointee.error < 0 {
            throw MediaError(code: pb.pointee.error, operation: "write packet", source: path)
        }
        packetCount += 1
        payloadBytes += size
    }

    /// Bytes of the file so far, including what is still buffered: the offset the next
    /// packet starts at (what a keyframe index records, before writing the keyframe).
    public var position: Int64 {
        guard let context, let pb = context.pointee.pb else { return 0 }
        return avio_tell(pb)
    }

    /// Pushes buffered bytes to the file (they survive a crash of the process); throws
    /// when the file system refused them (a full disk).
    public func flush() throws(MediaError) {
        guard let context, let pb = context.pointee.pb else { return }
        avio_flush(pb)
        if pb.pointee.error < 0 { throw MediaError(code: pb.pointee.error, operation: "flush", source: path) }
    }

    /// Writes the trailer and closes the file.
    public func close() throws(MediaError) {
        guard let context else { return }
        self.context = nil
        let trailer = av_write_trailer(context)
        var closed: Int32 = 0
        if context.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 { closed = avio_closep(&context.pointee.pb) }
        avformat_free_context(context)
        if trailer < 0 { throw MediaError(code: trailer, operation: "write trailer", source: path) }
        if closed < 0 { throw MediaError(code: closed, operation: "close", source: path) }
    }
}
