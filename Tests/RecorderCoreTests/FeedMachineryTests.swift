import Foundation
import Media
import RecorderCore
import Testing

@Suite struct FeedStateMachineTests {
    @Test func backoffDoublesUpToItsCap() {
        let policy = ReconnectPolicy(initialDelay: 0.5, multiplier: 2, maximumDelay: 30, jitter: 0)
        #expect((1...9).map { policy.baseDelay(afterFailures: $0) } == [0.5, 1, 2, 4, 8, 16, 30, 30, 30])
    }

    @Test func followsAFeedThroughLossAndRecovery() {
        var machine = FeedStateMachine(policy: ReconnectPolicy(initialDelay: 1, multiplier: 2, maximumDelay: 8, jitter: 0))
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        machine.start(at: t0)
        #expect(machine.state == .connecting(since: t0))
        machine.connected(at: t0.addingTimeInterval(1))
        #expect(machine.state == .live(since: t0.addingTimeInterval(1)))

        // Lost after 3 s live: waits 1, 2, 4, 8, 8 s between attempts; "lost since" stays the first loss.
        let lostAt = t0.addingTimeInterval(4)
        var now = lostAt
        var delays: [Double] = []
        for _ in 0..<5 {
            let delay = machine.failed(at: now, reason: "Connection refused", random: 0.5)
            delays.append(delay)
            #expect(machine.state.lostSince == lostAt)
            now = now.addingTimeInterval(delay)
            machine.attemptBegins(at: now)
            if case .reconnecting(let since, _, let reason) = machine.state {
                #expect(since == lostAt && reason == "Connection refused")
            } else {
                Issue.record("expected reconnecting, got \(machine.state)")
            }
        }
        #expect(delays == [1, 2, 4, 8, 8])
        machine.connected(at: now)
        #expect(machine.state.isLive)

        // A feed that stayed up long enough starts again from the first delay.
        let delay = machine.failed(at: now.addingTimeInterval(60), reason: "timed out", random: 0.5)
        #expect(delay == 1)
    }

    @Test func jitterStaysWithinItsBounds() {
        var low = FeedStateMachine(policy: ReconnectPolicy(initialDelay: 10, jitter: 0.2))
        var high = FeedStateMachine(policy: ReconnectPolicy(initialDelay: 10, jitter: 0.2))
        low.start(at: Date())
        high.start(at: Date())
        #expect(low.failed(at: Date(), reason: "x", random: 0) == 8)
        #expect(abs(high.failed(at: Date(), reason: "x", random: 0.999999) - 12) < 0.001)
    }
}

@Suite struct RateMeterTests {
    @Test func measuresFramesAndBitsOverItsWindow() {
        var meter = RateMeter(window: 2)
        for index in 0..<100 { meter.record(bytes: 1000, at: Double(index) * 0.04) }  // 25 fps, 200 kbit/s
        let now = 99 * 0.04
        #expect(abs(meter.itemsPerSecond(at: now) - 25) <= 0.5)
        #expect(abs(meter.bitsPerSecond(at: now) - 200_000) <= 4_000)
        // Nothing recorded for a while: the rates fall to zero.
        #expect(meter.itemsPerSecond(at: now + 10) == 0)
    }
}
