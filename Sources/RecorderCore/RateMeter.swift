/// Frames per second and bits per second over a sliding window, from arrival times and
/// sizes. A pure value: the receive thread feeds it, readers take copies.
public struct RateMeter: Sendable {
    public let window: Double
    private var times: [Double] = []
    private var sizes: [Int] = []
    private var head = 0
    private var bytesInWindow = 0

    public init(window: Double = 2) { self.window = window }

    /// Records one item of `bytes` at monotonic time `now` (seconds).
    public mutating func record(bytes: Int, at now: Double) {
        times.append(now)
        sizes.append(bytes)
        bytesInWindow += bytes
        expire(before: now - window)
    }

    private mutating func expire(before limit: Double) {
        while head < times.count && times[head] < limit {
            bytesInWindow -= sizes[head]
            head += 1
        }
        if head > 256 && head * 2 > times.count {
            times.removeFirst(head)
            sizes.removeFirst(head)
            head = 0
        }
    }

    /// Items per second over the window ending at `now`.
    public func itemsPerSecond(at now: Double) -> Double {
        let count = times[head...].filter { $0 >= now - window }.count
        return Double(count) / window
    }

    /// Bits per second over the window ending at `now`.
    public func bitsPerSecond(at now: Double) -> Double {
        var bytes = 0
        for index in head..<times.count where times[index] >= now - window { bytes += sizes[index] }
        return Double(bytes * 8) / window
    }
}
