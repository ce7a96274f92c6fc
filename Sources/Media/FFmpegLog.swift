internal import CFFmpeg
public import Logging
import Synchronization

/// Routes FFmpeg's own log lines into swift-log, credentials removed.
///
/// FFmpeg prints URLs in its messages (for example when an RTSP server refuses a
/// request). Left alone it writes them to stderr with any password in them; once
/// `install(level:)` has run, every line goes through `Redaction` first.
public enum FFmpegLog {
    static let logger = Logger(label: "vigie.ffmpeg")
    static let installed = Atomic<Bool>(false)

    /// Without `install`, FFmpeg only prints errors (libx264's statistics and the like
    /// are not for operators).
    static func quietUnlessInstalled() {
        if !installed.load(ordering: .acquiring) { av_log_set_level(AV_LOG_ERROR) }
    }

    /// Installs the callback and sets the most verbose FFmpeg level passed on.
    public static func install(level: Logger.Level = .warning) {
        installed.store(true, ordering: .releasing)
        av_log_set_level(avLevel(for: level))
        av_log_set_callback(ffmpegLogCallback)
    }

    static func avLevel(for level: Logger.Level) -> Int32 {
        switch level {
        case .trace: return AV_LOG_TRACE
        case .debug: return AV_LOG_DEBUG
        case .info, .notice: return AV_LOG_INFO
        case .warning: return AV_LOG_WARNING
        case .error: return AV_LOG_ERROR
        case .critical: return AV_LOG_FATAL
        }
    }

    static func swiftLevel(for avLevel: Int32) -> Logger.Level {
        switch avLevel {
        case ...AV_LOG_FATAL: return .critical
        case ...AV_LOG_ERROR: return .error
        case ...AV_LOG_WARNING: return .warning
        case ...AV_LOG_INFO: return .info
        case ...AV_LOG_DEBUG: return .debug
        default: return .trace
        }
    }
}

private func ffmpegLogCallback(
    _ context: UnsafeMutableRawPointer?, _ level: Int32, _ format: UnsafePointer<CChar>?, _ arguments: CVaListPointer?
) {
    guard level <= av_log_get_level(), let format, let arguments else { return }
    var buffer = [CChar](repeating: 0, count: 1024)
    var printPrefix: Int32 = 1
    _ = vigie_format_log_line(context, level, format, arguments, &buffer, Int32(buffer.count), &printPrefix)
    var line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let cut = buffer.count - 1 <= line.utf8.count + 1
    while line.last == "\n" { line.removeLast() }
    guard !line.isEmpty else { return }
    let shown = cut ? Redaction.redactCutLine(line) : Redaction.redactCredentials(in: line)
    FFmpegLog.logger.log(level: FFmpegLog.swiftLevel(for: level), "\(shown)")
}
