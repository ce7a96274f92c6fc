internal import CFFmpeg

/// An error from FFmpeg or from the media layer around it.
///
/// Carries the FFmpeg return code (negative AVERROR value, or 0 when the error is the
/// media layer's own), FFmpeg's message for it, the operation that failed and the source
/// it concerned. `source` is always redacted: credentials in URLs never reach an error.
public struct MediaError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is, so callers can react (retry, give up, tell the user).
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case ffmpeg, timedOut, cancelled, noVideoStream, unsupportedCodec, invalidArgument, io
        }
        private let value: Value
        /// FFmpeg returned an error code.
        public static let ffmpeg = Kind(value: .ffmpeg)
        /// A connect or read deadline passed (the interrupt callback stopped FFmpeg).
        public static let timedOut = Kind(value: .timedOut)
        /// The operation was cancelled from another thread.
        public static let cancelled = Kind(value: .cancelled)
        /// The source has no video stream.
        public static let noVideoStream = Kind(value: .noVideoStream)
        /// No decoder or encoder for this codec in this FFmpeg build.
        public static let unsupportedCodec = Kind(value: .unsupportedCodec)
        /// A caller passed something FFmpeg cannot use (size, format...).
        public static let invalidArgument = Kind(value: .invalidArgument)
        /// A file-system error outside FFmpeg.
        public static let io = Kind(value: .io)
        public var description: String { "\(value)" }
    }

    public let kind: Kind
    /// The FFmpeg return code (AVERROR), or 0 when FFmpeg was not the one to fail.
    public let code: Int32
    /// The FFmpeg call or media-layer operation that failed.
    public let operation: String
    /// The source or destination concerned, credentials removed.
    public let source: String?
    /// FFmpeg's own text for `code`, or the media layer's explanation.
    public let message: String

    public init(kind: Kind, code: Int32 = 0, operation: String, source: String? = nil, message: String) {
        self.kind = kind
        self.code = code
        self.operation = operation
        self.source = source.map(Redaction.redactAddress)
        self.message = message
    }

    /// Builds an error from an FFmpeg return code, with `av_strerror`'s text.
    public init(code: Int32, operation: String, source: String? = nil) {
        self.init(kind: .ffmpeg, code: code, operation: operation, source: source, message: MediaError.text(for: code))
    }

    /// FFmpeg's text for an AVERROR code.
    public static func text(for code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        if av_strerror(code, &buffer, buffer.count) < 0 {
            return "error \(code)"
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String {
        var text = ""
        if let source { text += "\(source): " }
        text += "\(operation) failed: \(message)"
        if code != 0 { text += " (ffmpeg error \(code))" }
        return text
    }
}

/// Well-known FFmpeg return codes, so callers never compare with magic numbers.
public enum FFmpegCode {
    public static let again: Int32 = vigie_averror_eagain()
    public static let endOfFile: Int32 = vigie_averror_eof()
    public static let exit: Int32 = vigie_averror_exit()
    public static let invalidData: Int32 = vigie_averror_invaliddata()
    public static func posix(_ errno: Int32) -> Int32 { vigie_averror(errno) }
}
