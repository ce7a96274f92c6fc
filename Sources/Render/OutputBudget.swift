/// A cap on the bytes sent to the terminal per second, for thin links (`--max-rate`).
///
/// A token bucket: it fills at `bytesPerSecond` up to `burst` bytes. A frame is drawn only
/// while the bucket is not in debt; what it cost is taken afterwards, so one large frame
/// (the first, a page change) is allowed and then paid back by skipping frames. Skipped
/// frames are dropped, never queued: the next one drawn is the newest.
public struct OutputBudget: Sendable {
    public let bytesPerSecond: Double
    public let burst: Double
    private var tokens: Double
    private var last: Double?
    /// Bytes sent and frames skipped for the budget, for the statistics.
    public private(set) var spent = 0
    public private(set) var skipped = 0

    /// `burstSeconds` of the rate may be sent at once after a quiet time.
    public init(bytesPerSecond: Int, burstSeconds: Double = 0.25) {
        precondition(bytesPerSecond > 0)
        self.bytesPerSecond = Double(bytesPerSecond)
        burst = max(1, Double(bytesPerSecond) * burstSeconds)
        tokens = burst
    }

    private mutating func refill(now: Double) {
        if let last { tokens = min(burst, tokens + (now - last) * bytesPerSecond) }
        last = now
    }

    /// Whether a frame may be drawn now (`now` in seconds, monotonic). A refusal counts as a skipped frame.
    public mutating func allows(now: Double) -> Bool {
        refill(now: now)
        if tokens > 0 { return true }
        skipped += 1
        return false
    }

    /// Takes what a drawn frame cost.
    public mutating func spend(_ bytes: Int, now: Double) {
        refill(now: now)
        tokens -= Double(bytes)
        spent += bytes
    }

    /// Parses "50000", "64k", "1.5M" (bytes per second, k = 1000).
    public static func parseRate(_ text: String) -> Int? {
        var digits = Substring(text).drop(while: { $0 == " " })
        var scale = 1.0
        if let last = digits.last, "kKmM".contains(last) {
            scale = "kK".contains(last) ? 1000 : 1_000_000
            digits = digits.dropLast()
        }
        guard let value = Double(digits), value.isFinite, value * scale >= 1, value * scale < 1e12 else { return nil }
        return Int(value * scale)
    }
}
