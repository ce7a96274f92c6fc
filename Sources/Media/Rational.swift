internal import CFFmpeg

/// A time base or frame rate as a fraction, FFmpeg's AVRational as a Swift value.
public struct Rational: Hashable, Sendable, CustomStringConvertible {
    public var numerator: Int32
    public var denominator: Int32

    public init(_ numerator: Int32, _ denominator: Int32) {
        self.numerator = numerator
        self.denominator = denominator
    }

    init(_ value: AVRational) {
        self.init(value.num, value.den)
    }

    var av: AVRational { AVRational(num: numerator, den: denominator) }

    /// The fraction as a Double, or nil when it is 0/0 or x/0 (FFmpeg's "unknown").
    public var doubleValue: Double? {
        guard denominator != 0, numerator != 0 else { return nil }
        return Double(numerator) / Double(denominator)
    }

    /// The 90 kHz clock of RTP and MPEG-TS.
    public static let mpeg90kHz = Rational(1, 90_000)
    /// Microseconds, FFmpeg's AV_TIME_BASE.
    public static let microseconds = Rational(1, 1_000_000)

    /// Rescales `value` from this time base to `target`, rounding to nearest (FFmpeg's av_rescale_q).
    public func rescale(_ value: Int64, to target: Rational) -> Int64 {
        av_rescale_q(value, av, target.av)
    }

    /// The time of `value` ticks of this time base, in seconds.
    public func seconds(_ value: Int64) -> Double {
        Double(value) * Double(numerator) / Double(denominator)
    }

    public var description: String { "\(numerator)/\(denominator)" }
}
