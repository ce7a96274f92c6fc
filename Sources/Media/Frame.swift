internal import CFFmpeg

/// One decoded picture, owning its `AVFrame`. Produced by a `Decoder`, consumed by a
/// `Scaler` on the same thread; never shared across threads.
public final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>
    /// Time base of `pts`.
    public let timeBase: Rational

    init(timeBase: Rational) {
        guard let pointer = av_frame_alloc() else { fatalError("av_frame_alloc: out of memory") }
        self.pointer = pointer
        self.timeBase = timeBase
    }

    deinit {
        var pointer: UnsafeMutablePointer<AVFrame>? = self.pointer
        av_frame_free(&pointer)
    }

    public var width: Int { Int(pointer.pointee.width) }
    public var height: Int { Int(pointer.pointee.height) }
    /// Presentation time (best effort) in `timeBase`, nil when unknown.
    public var pts: Int64? {
        let value = pointer.pointee.best_effort_timestamp
        return value == vigie_nopts_value() ? nil : value
    }
    /// True for a keyframe.
    public var isKeyframe: Bool { pointer.pointee.key_frame != 0 }
    /// The pixel format's name ("yuv420p", "yuvj422p").
    public var pixelFormatName: String {
        av_get_pix_fmt_name(AVPixelFormat(pointer.pointee.format)).map { String(cString: $0) } ?? "?"
    }
}
