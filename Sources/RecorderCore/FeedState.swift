public import Foundation

/// Where a camera's live feed stands, as the console and `recorder status` show it.
public enum FeedState: Sendable, Equatable, CustomStringConvertible {
    /// Not asked to run.
    case stopped
    /// First connection in progress.
    case connecting(since: Date)
    /// Packets are flowing.
    case live(since: Date)
    /// The source failed at `since`; the next try is at `retryAt`.
    case lost(since: Date, reason: String, retryAt: Date)
    /// Trying again after a loss (`attempt` counts from 1).
    case reconnecting(lostSince: Date, attempt: Int, reason: String)

    public var isLive: Bool { if case .live = self { return true } else { return false } }

    /// When the signal went missing, for NO SIGNAL labels.
    public var lostSince: Date? {
        switch self {
        case .lost(let since, _, _): return since
        case .reconnecting(let since, _, _): return since
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .stopped: return "stopped"
        case .connecting: return "connecting"
        case .live: return "live"
        case .lost(_, let reason, _): return "lost (\(reason))"
        case .reconnecting(_, let attempt, let reason): return "reconnecting #\(attempt) (\(reason))"
        }
    }

    /// One word for tables.
    public var word: String {
        switch self {
        case .stopped: return "stopped"
        case .connecting: return "connecting"
        case .live: return "live"
        case .lost: return "lost"
        case .reconnecting: return "reconnecting"
        }
    }
}

/// How long to wait before reconnecting: capped exponential backoff with jitter, so a
/// hundred cameras that drop together do not all knock at once.
public struct ReconnectPolicy: Sendable, Equatable {
    public var initialDelay: Double = 0.5
    public var multiplier: Double = 2
    public var maximumDelay: Double = 30
    /// Fraction of the delay drawn at random either way (0.2 = plus or minus 20 %).
    public var jitter: Double = 0.2
    /// Seconds live after which the next failure starts again from `initialDelay`.
    public var stableAfter: Double = 10

    public init(initialDelay: Double = 0.5, multiplier: Double = 2, maximumDelay: Double = 30, jitter: Double = 0.2) {
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maximumDelay = maximumDelay
        self.jitter = jitter
    }

    /// The delay before attempt `failures` (1 after the first failure), before jitter.
    public func baseDelay(afterFailures failures: Int) -> Double {
        guard failures > 0 else { return 0 }
        let exponent = Double(min(failures - 1, 60))
        return min(maximumDelay, initialDelay * pow(multiplier, exponent))
    }
}

/// The feed's state machine, pure: events in, state and the next wait out. The receive
/// thread performs what it says; tests drive it with a fake clock.
public struct FeedStateMachine: Sendable {
    public private(set) var state: FeedState = .stopped
    public let policy: ReconnectPolicy
    /// Failed attempts since the feed was last live for good.
    public private(set) var failures = 0
    private var liveSince: Date?

    public init(policy: ReconnectPolicy = ReconnectPolicy()) { self.policy = policy }

    /// The feed was asked to run.
    public mutating func start(at now: Date) {
        failures = 0
        state = .connecting(since: now)
    }

    /// A connection attempt begins (after `retryAt` has passed).
    public mutating func attemptBegins(at now: Date) {
        if case .lost(let since, let reason, _) = state {
            state = .reconnecting(lostSince: since, attempt: failures, reason: reason)
        }
    }

    /// The first packet of a connection arrived.
    public mutating func connected(at now: Date) {
        if !state.isLive {
            state = .live(since: now)
            liveSince = now
        }
    }

    /// The source failed (open refused, read timed out, stream ended). Returns how long
    /// to wait before the next attempt; `random` in [0, 1) draws the jitter.
    public mutating func failed(at now: Date, reason: String, random: Double) -> Double {
        if let liveSince, now.timeIntervalSince(liveSince) >= policy.stableAfter { failures = 0 }
        liveSince = nil
        failures += 1
        let base = policy.baseDelay(afterFailures: failures)
        let delay = max(0, base * (1 + policy.jitter * (2 * random - 1)))
        let since = state.lostSince ?? now
        state = .lost(since: since, reason: reason, retryAt: now.addingTimeInterval(delay))
        return delay
    }

    /// The feed was asked to stop.
    public mutating func stop() {
        state = .stopped
        liveSince = nil
    }
}
