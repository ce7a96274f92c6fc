public import Foundation
public import Media
import Synchronization

/// The newest decoded picture of a camera at one size, for one viewer.
public struct LiveFrame: Sendable {
    public let image: RGBImage
    /// Counts pictures published into the slot: a viewer redraws when it changes.
    public let sequence: UInt64
    /// When the picture was decoded (wall clock).
    public let decodedAt: Date
    /// Presentation time from the stream, in seconds, when known.
    public let presentationTime: Double?
}

/// A latest-frame-wins slot between a camera's receive thread and a viewer: the
/// producer overwrites, the viewer reads whenever it draws. Nothing queues, so neither
/// side ever waits for the other.
public final class FrameSubscription: Sendable {
    public let cameraID: String
    /// Which stream of the camera it is fed from: "main" or "sub".
    public let stream: String
    public let width: Int
    public let height: Int
    private let slot = Mutex<LiveFrame?>(nil)
    private let cancelled = Atomic<Bool>(false)
    private let onCancel: @Sendable (FrameSubscription) -> Void

    init(cameraID: String, stream: String, width: Int, height: Int, onCancel: @escaping @Sendable (FrameSubscription) -> Void) {
        self.cameraID = cameraID
        self.stream = stream
        self.width = width
        self.height = height
        self.onCancel = onCancel
    }

    /// The newest picture, or nil before the first one.
    public func latest() -> LiveFrame? { slot.withLock { $0 } }

    /// Stops the subscription; the camera stops decoding when nobody else watches.
    public func cancel() {
        if !cancelled.exchange(true, ordering: .acquiringAndReleasing) { onCancel(self) }
    }

    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    func publish(_ image: RGBImage, presentationTime: Double?) {
        slot.withLock { current in
            current = LiveFrame(
                image: image, sequence: (current?.sequence ?? 0) + 1, decodedAt: Date(), presentationTime: presentationTime)
        }
    }

    deinit { if !isCancelled { onCancel(self) } }
}

/// What a packet consumer (the recorder) receives from a feed, in order.
public enum FeedEvent: Sendable {
    /// A connection began: the codec and time base of the packets that follow.
    case streamStarted(StreamInfo)
    /// A packet and when it arrived (the recorder's clock, seconds since 1970).
    case packet(Packet, receivedAt: Double)
    /// The connection was lost; packets resume after the next `streamStarted`.
    case streamLost(at: Date, reason: String)
}

/// A bounded queue of feed events that drops the oldest packets when the consumer falls
/// behind, and counts what it dropped. Stream start and loss events are never dropped.
/// Bounded in packets and in bytes: a camera sending huge packets cannot make it hold more
/// than `maximumBytes`. Or, made with a handler, no queue: each event is handed to the
/// handler on the feed's thread (a consumer that never blocks, such as the live relay).
public final class PacketSubscription: @unchecked Sendable {  // all state guarded by `condition`
    public let cameraID: String
    public let capacity: Int
    public let maximumBytes: Int
    private var pendingBytes = 0
    private var events: [FeedEvent] = []
    private var head = 0
    private var dropped = 0
    private var closed = false
    private let condition = NSCondition()
    private let onCancel: @Sendable (PacketSubscription) -> Void
    /// When set, events go to it at once, on the feed's thread, instead of the queue.
    private let handler: (@Sendable (FeedEvent) -> Void)?

    init(
        cameraID: String, capacity: Int, maximumBytes: Int = 64 << 20, handler: (@Sendable (FeedEvent) -> Void)? = nil,
        onCancel: @escaping @Sendable (PacketSubscription) -> Void
    ) {
        self.cameraID = cameraID
        self.capacity = capacity
        self.maximumBytes = maximumBytes
        self.handler = handler
        self.onCancel = onCancel
    }

    /// Packets dropped because the consumer was too slow.
    public var droppedCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return dropped
    }

    func push(_ event: FeedEvent) {
        if let handler {
            condition.lock()
            let open = !closed
            condition.unlock()
            if open { handler(event) }
            return
        }
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return }
        events.append(event)
        if case .packet(let packet, _) = event { pendingBytes += packet.size }
        var pending = events.count - head
        var index = head
        while pending > capacity || pendingBytes > maximumBytes, index < events.count {
            if case .packet(let packet, _) = events[index] {
                events.remove(at: index)
                dropped += 1
                pending -= 1
                pendingBytes -= packet.size
            } else {
                index += 1
            }
        }
        condition.signal()
    }

    /// The next event, waiting up to `timeout` seconds; nil on timeout or after `cancel()`.
    public func next(timeout: Double) -> FeedEvent? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !closed && head >= events.count {
            if !condition.wait(until: deadline) { return nil }
        }
        if closed { return nil }
        let event = events[head]
        if case .packet(let packet, _) = event { pendingBytes -= packet.size }
        head += 1
        if head > 64 && head * 2 > events.count {
            events.removeFirst(head)
            head = 0
        }
        return event
    }

    /// Every pending event, waiting up to `timeout` seconds for the first; empty on timeout
    /// or after `cancel()`. Taking events in batches wakes the consumer less often.
    public func takeAll(timeout: Double) -> [FeedEvent] {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while !closed && head >= events.count {
            if !condition.wait(until: deadline) { return [] }
        }
        if closed { return [] }
        let taken = Array(events[head...])
        events.removeAll(keepingCapacity: true)
        head = 0
        pendingBytes = 0
        return taken
    }

    public func cancel() {
        condition.lock()
        let wasOpen = !closed
        closed = true
        condition.broadcast()
        condition.unlock()
        if wasOpen { onCancel(self) }
    }
}
