internal import CFFmpeg
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Lets another thread stop a blocked FFmpeg call, and puts deadlines on connects and reads.
///
/// FFmpeg polls its interrupt callback while it waits on the network; the callback reads
/// this object's atomics. `cancel()` makes every pending and future call fail promptly;
/// `arm(timeout:)` sets a deadline for the next blocking call.
public final class InterruptFlag: Sendable {
    private let cancelled = Atomic<Bool>(false)
    private let deadline = Atomic<Int64>(Int64.max)  // CLOCK_MONOTONIC nanoseconds
    private let timedOutFlag = Atomic<Bool>(false)

    public init() {}

    /// Stops the current blocking call and every later one.
    public func cancel() { cancelled.store(true, ordering: .releasing) }

    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// Sets a deadline `timeout` from now for the calls that follow.
    public func arm(timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        deadline.store(MonotonicClock.nanoseconds() + nanoseconds, ordering: .relaxed)
        timedOutFlag.store(false, ordering: .relaxed)
    }

    /// Removes the deadline.
    public func disarm() { deadline.store(Int64.max, ordering: .relaxed) }

    /// True when the last interruption came from a deadline, not from `cancel()`.
    public var didTimeOut: Bool { timedOutFlag.load(ordering: .relaxed) }

    /// What FFmpeg's callback asks: should the blocking call stop now?
    func shouldInterrupt() -> Bool {
        if cancelled.load(ordering: .relaxed) { return true }
        if MonotonicClock.nanoseconds() > deadline.load(ordering: .relaxed) {
            timedOutFlag.store(true, ordering: .relaxed)
            return true
        }
        return false
    }

    /// The callback record to put in an `AVFormatContext`; `self` must outlive the context.
    var callback: AVIOInterruptCB {
        AVIOInterruptCB(
            callback: { opaque in
                guard let opaque else { return 0 }
                let flag = Unmanaged<InterruptFlag>.fromOpaque(opaque).takeUnretainedValue()
                return flag.shouldInterrupt() ? 1 : 0
            },
            opaque: Unmanaged.passUnretained(self).toOpaque()
        )
    }
}

/// CLOCK_MONOTONIC, cheap enough for FFmpeg's interrupt callback.
public enum MonotonicClock {
    public static func nanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
