public import Foundation
public import Media
import Logging
import Synchronization

/// Opens a camera stream address; sim:// and real sources alike.
public typealias SourceOpener = @Sendable (_ url: String, _ transport: RTSPTransport, _ interrupt: InterruptFlag) throws(MediaError)
    -> any PacketSource

/// A snapshot of one feed for status screens.
public struct FeedStatus: Sendable {
    public let cameraID: String
    public let stream: String
    public let state: FeedState
    /// Packets (frames) received per second over the last seconds.
    public let receivedFramesPerSecond: Double
    /// Pictures decoded per second (0 when nobody watches).
    public let decodedFramesPerSecond: Double
    public let bitsPerSecond: Double
    public let lastPacketAt: Date?
    public let codec: String?
    public let width: Int?
    public let height: Int?
    /// Width over height as the picture is meant to be seen (sample aspect ratio applied).
    public let displayAspect: Double?
    public let transport: String?
    public let frameSubscribers: Int
    public let packetSubscribers: Int
    public let packetsReceived: Int
    public let framesDecoded: Int
    /// Connection attempts that failed since the feed was last live for good.
    public let failures: Int
}

/// One camera stream's live feed: a receive thread that connects, reads packets, hands
/// them to packet subscribers (the recorder) and, only while someone watches, decodes
/// and scales them into each viewer's latest-frame slot. Reconnects with capped
/// exponential backoff; reports its state, rates and last packet time.
///
/// Runs while it has subscribers (plus a short linger, so zapping back is instant) or
/// while `keepRunning` is set (recording). Blocking FFmpeg I/O stays on its own thread.
public final class LiveFeed: Sendable {
    public let cameraID: String
    /// "main" or "sub".
    public let stream: String
    private let url: String
    private let transport: RTSPTransport
    private let opener: SourceOpener
    private let policy: ReconnectPolicy
    /// Seconds the feed keeps running after its last subscriber left.
    public let linger: Double
    private let logger: Logger

    private struct WeakFrame { weak var subscription: FrameSubscription? }
    private struct WeakPackets {
        weak var subscription: PacketSubscription?
        /// Joined a running stream and asked to be caught up: the receive thread hands it the
        /// stream's description and the current group of pictures before its next packet.
        var catchingUp = false
    }
    private struct Shared {
        var machine: FeedStateMachine
        var threadRunning = false
        var stopRequested = false
        var keepRunning = false
        var lingerUntil: Double = 0
        var frames: [WeakFrame] = []
        var packets: [WeakPackets] = []
        var interrupt = InterruptFlag()
        var received = RateMeter()
        var decoded = RateMeter()
        var lastPacketAt: Date?
        var video: StreamInfo?
        var transportName: String?
        var packetsReceived = 0
        var framesDecoded = 0
        var retryAt: Double = 0
    }
    private let shared: Mutex<Shared>
    private let wakeUp = NSCondition()

    public init(
        cameraID: String, stream: String, url: String, transport: RTSPTransport = .tcp, opener: @escaping SourceOpener,
        policy: ReconnectPolicy = ReconnectPolicy(), linger: Double = 15
    ) {
        self.cameraID = cameraID
        self.stream = stream
        self.url = url
        self.transport = transport
        self.opener = opener
        self.policy = policy
        self.linger = linger
        self.logger = Logger(label: "vigie.feed.\(cameraID).\(stream)")
        self.shared = Mutex(Shared(machine: FeedStateMachine(policy: policy)))
    }

    /// The address, credentials removed.
    public var displayURL: String { Redaction.redactAddress(url) }

    /// Keeps the feed connected with or without viewers (the recorder sets it).
    public func setKeepRunning(_ keep: Bool) {
        shared.withLock { $0.keepRunning = keep }
        if keep { ensureRunning() }
    }

    /// Asks for decoded pictures at `width` x `height`; starts the feed if needed.
    public func subscribeFrames(width: Int, height: Int) -> FrameSubscription {
        let subscription = FrameSubscription(cameraID: cameraID, stream: stream, width: width, height: height) { [weak self] gone in
            self?.remove(frames: gone)
        }
        shared.withLock { $0.frames.append(WeakFrame(subscription: subscription)) }
        ensureRunning()
        return subscription
    }

    /// Asks for the compressed packets, through a queue of `capacity` packets that drops
    /// the oldest when the consumer falls behind; starts the feed if needed.
    public func subscribePackets(capacity: Int = 500) -> PacketSubscription {
        subscribe(PacketSubscription(cameraID: cameraID, capacity: capacity) { [weak self] gone in self?.remove(packets: gone) })
    }

    /// Hands each event to `handler` on the feed's receive thread, as it comes: no queue and
    /// no thread of the subscriber's to wake. The handler must never block (it would hold up
    /// the camera's reading and every other subscriber). Kept while the subscription lives.
    ///
    /// With `catchUp`, a subscriber that joins a running stream first gets, on that thread
    /// and before the next packet, the stream's description and the packets since the last
    /// keyframe (with the times they were received): a relay made on a zap has a picture to
    /// give at once instead of waiting up to a group of pictures for the camera's next keyframe.
    public func subscribePackets(catchUp: Bool = false, handler: @escaping @Sendable (FeedEvent) -> Void) -> PacketSubscription {
        subscribe(
            PacketSubscription(cameraID: cameraID, capacity: 0, handler: handler) { [weak self] gone in self?.remove(packets: gone) },
            catchUp: catchUp)
    }

    private func subscribe(_ subscription: PacketSubscription, catchUp: Bool = false) -> PacketSubscription {
        let video = shared.withLock { shared -> StreamInfo? in
            let live = shared.machine.state.isLive ? shared.video : nil
            // Caught up by the receive thread, in order with the packets that follow; a stream
            // not live yet starts with its description to every subscriber anyway.
            shared.packets.append(WeakPackets(subscription: subscription, catchingUp: catchUp && live != nil))
            return catchUp ? nil : live
        }
        // A subscriber that joins a running stream learns its codec first.
        if let video { subscription.push(.streamStarted(video)) }
        ensureRunning()
        return subscription
    }

    /// Stops the feed now, whoever subscribed, and waits up to `timeout` for its thread.
    public func stop(timeout: Double = 5) {
        let interrupt = shared.withLock { shared -> InterruptFlag in
            shared.stopRequested = true
            shared.keepRunning = false
            return shared.interrupt
        }
        interrupt.cancel()
        wakeUp.lock()
        wakeUp.broadcast()
        wakeUp.unlock()
        let deadline = Date().addingTimeInterval(timeout)
        while shared.withLock({ $0.threadRunning }) && Date() < deadline { usleep(5_000) }
    }

    public var state: FeedState { shared.withLock { $0.machine.state } }

    public var status: FeedStatus {
        let now = MonotonicClock.seconds()
        return shared.withLock { shared in
            FeedStatus(
                cameraID: cameraID, stream: stream, state: shared.machine.state,
                receivedFramesPerSecond: shared.machine.state.isLive ? shared.received.itemsPerSecond(at: now) : 0,
                decodedFramesPerSecond: shared.decoded.itemsPerSecond(at: now),
                bitsPerSecond: shared.machine.state.isLive ? shared.received.bitsPerSecond(at: now) : 0,
                lastPacketAt: shared.lastPacketAt, codec: shared.video?.parameters.codecName,
                width: shared.video?.parameters.width, height: shared.video?.parameters.height,
                displayAspect: shared.video?.parameters.displayAspect,
                transport: shared.transportName,
                frameSubscribers: shared.frames.filter { $0.subscription != nil }.count,
                packetSubscribers: shared.packets.filter { $0.subscription != nil }.count,
                packetsReceived: shared.packetsReceived, framesDecoded: shared.framesDecoded,
                failures: shared.machine.failures)
        }
    }

    // MARK: - Demand

    private func remove(frames gone: FrameSubscription) {
        shared.withLock { shared in
            shared.frames.removeAll { $0.subscription == nil || $0.subscription === gone }
            if shared.frames.isEmpty && shared.packets.isEmpty { shared.lingerUntil = MonotonicClock.seconds() + linger }
        }
    }

    private func remove(packets gone: PacketSubscription) {
        shared.withLock { shared in
            shared.packets.removeAll { $0.subscription == nil || $0.subscription === gone }
            if shared.frames.isEmpty && shared.packets.isEmpty { shared.lingerUntil = MonotonicClock.seconds() + linger }
        }
    }

    private func ensureRunning() {
        let start = shared.withLock { shared -> Bool in
            shared.stopRequested = false
            guard !shared.threadRunning else { return false }
            shared.threadRunning = true
            shared.machine.start(at: Date())
            return true
        }
        guard start else { return }
        let thread = Thread { [self] in run() }
        thread.name = "vigie.feed.\(cameraID).\(stream)"
        thread.start()
    }

    /// Whether the thread should go on; when not, marks it stopped under the same lock so
    /// a new subscriber either sees it running or starts a new one.
    private func shouldContinue() -> Bool {
        shared.withLock { shared in
            shared.frames.removeAll { $0.subscription == nil }
            shared.packets.removeAll { $0.subscription == nil }
            let wanted = LiveFeed.wanted(shared)
            if !wanted {
                shared.threadRunning = false
                shared.machine.stop()
                shared.video = nil
            }
            return wanted
        }
    }

    // MARK: - The receive thread

    private func run() {
        while shouldContinue() {
            let interrupt = InterruptFlag()
            shared.withLock { shared in
                shared.interrupt = interrupt
                shared.machine.attemptBegins(at: Date())
            }
            var reason = "stream ended"
            do {
                let source = try opener(url, transport, interrupt)
                if shared.withLock({ $0.stopRequested }) { interrupt.cancel() }
                try receive(from: source)
            } catch {
                reason = LiveFeed.shortReason(error)
            }
            guard shouldContinue() else { break }
            let now = Date()
            let (delay, packetSubscribers) = shared.withLock { shared in
                let delay = shared.machine.failed(at: now, reason: reason, random: Double.random(in: 0..<1))
                shared.retryAt = MonotonicClock.seconds() + delay
                return (delay, shared.packets.compactMap(\.subscription))
            }
            logger.warning("\(cameraID)/\(stream) lost: \(reason); retry in \(String(format: "%.1f", delay)) s")
            for subscriber in packetSubscribers { subscriber.push(.streamLost(at: now, reason: reason)) }
            waitBeforeRetry()
        }
    }

    private func waitBeforeRetry() {
        wakeUp.lock()
        defer { wakeUp.unlock() }
        while true {
            let (retryAt, stop) = shared.withLock { ($0.retryAt, $0.stopRequested) }
            let remaining = retryAt - MonotonicClock.seconds()
            if stop || remaining <= 0 { return }
            _ = wakeUp.wait(until: Date().addingTimeInterval(min(remaining, 0.25)))
            if !isWanted() { return }
        }
    }

    /// Whether anyone still wants the feed (read-only; `shouldContinue()` decides to stop).
    private func isWanted() -> Bool { shared.withLock { LiveFeed.wanted($0) } }

    /// Someone wants the feed: not stopped, and recording, watched, or within the linger.
    private static func wanted(_ shared: borrowing Shared) -> Bool {
        !shared.stopRequested
            && (shared.keepRunning || shared.frames.contains { $0.subscription != nil }
                || shared.packets.contains { $0.subscription != nil } || MonotonicClock.seconds() < shared.lingerUntil)
    }

    /// The most a feed keeps of its current group of pictures.
    static let groupLimit = (packets: 400, bytes: 16 << 20)

    private struct SizeKey: Hashable {
        let width: Int
        let height: Int
    }

    private func receive(from source: any PacketSource) throws(MediaError) {
        var decoder: Decoder? = nil
        var scalers: [SizeKey: Scaler] = [:]
        var first = true
        let video = source.video
        var checks = 0
        // The packets since the last keyframe: a viewer that comes while the feed runs (a
        // zap back to a page within the linger) is caught up from them and sees a picture at
        // once, not at the next keyframe. Bounded; over the bound, the next keyframe again.
        var groupOfPictures: [(packet: Packet, receivedAt: Double)] = []
        var groupBytes = 0
        while true {
            // Demand is checked every few packets, not every packet (cheap either way).
            checks += 1
            if checks % 8 == 0 && !isWanted() { return }
            guard let packet = try source.read() else { return }
            let now = Date()
            let monotonic = MonotonicClock.seconds()
            let (frameSubscribers, packetSubscribers, joined) = shared.withLock { shared in
                if first {
                    shared.video = video
                    shared.transportName = source.transport
                    shared.machine.connected(at: now)
                }
                shared.received.record(bytes: packet.size, at: monotonic)
                shared.lastPacketAt = now
                shared.packetsReceived += 1
                // Those that joined since the last packet, to catch up (at the first packet, the
                // description goes to everyone and there is nothing cached yet).
                var joined: [PacketSubscription] = []
                for index in shared.packets.indices where shared.packets[index].catchingUp {
                    shared.packets[index].catchingUp = false
                    if !first, let subscription = shared.packets[index].subscription { joined.append(subscription) }
                }
                return (shared.frames.compactMap(\.subscription), shared.packets.compactMap(\.subscription), joined)
            }
            if first {
                first = false
                logger.info("\(cameraID)/\(stream) live: \(video.parameters.codecName) \(video.parameters.width)x\(video.parameters.height) over \(source.transport)")
                for subscriber in packetSubscribers { subscriber.push(.streamStarted(video)) }
            }
            for subscriber in joined {
                subscriber.push(.streamStarted(video))
                // A keyframe now starts a new group: the cached one would be dropped at once.
                if !packet.isKeyframe {
                    for earlier in groupOfPictures { subscriber.push(.packet(earlier.packet, receivedAt: earlier.receivedAt)) }
                }
            }
            for subscriber in packetSubscribers { subscriber.push(.packet(packet, receivedAt: now.timeIntervalSince1970)) }
            if packet.isKeyframe {
                groupOfPictures.removeAll(keepingCapacity: true)
                groupBytes = 0
            }
            if packet.isKeyframe || !groupOfPictures.isEmpty {
                if groupOfPictures.count < LiveFeed.groupLimit.packets && groupBytes + packet.size <= LiveFeed.groupLimit.bytes {
                    groupOfPictures.append((packet, now.timeIntervalSince1970))
                    groupBytes += packet.size
                } else {
                    groupOfPictures.removeAll()
                    groupBytes = 0
                }
            }

            guard !frameSubscribers.isEmpty else {
                decoder = nil  // nobody watches: nothing is decoded
                scalers = [:]
                continue
            }
            if decoder == nil {
                // A new viewer starts at the last keyframe: this one, or the cached group's.
                guard groupOfPictures.first?.packet.isKeyframe == true else { continue }
                do {
                    // Viewers see pictures far smaller than the stream: preview decoding (no deblocking).
                    decoder = try Decoder(parameters: video.parameters, timeBase: video.timeBase, threads: 1, forPreview: true)
                } catch {
                    logger.error("\(cameraID)/\(stream): \(error)")
                    throw error
                }
                // Caught up from the keyframe: decoded, not scaled nor shown (the picture shown is this packet's).
                for earlier in groupOfPictures.dropLast() {
                    do {
                        try decoder!.send(earlier.packet)
                        while try decoder!.receive() != nil {}
                    } catch {
                        logger.debug("\(cameraID)/\(stream) catching up: \(error)")
                    }
                }
            }
            do {
                try decode(packet, with: decoder!, into: frameSubscribers, scalers: &scalers, timeBase: video.timeBase)
            } catch {
                // A damaged packet (UDP loss) spoils pictures, not the connection: start again at the next keyframe.
                logger.debug("\(cameraID)/\(stream) decode: \(error)")
                decoder = nil
                groupOfPictures.removeAll()  // never caught up again through the damaged packet
                groupBytes = 0
            }
        }
    }

    private func decode(
        _ packet: Packet, with decoder: Decoder, into subscribers: [FrameSubscription], scalers: inout [SizeKey: Scaler],
        timeBase: Rational
    ) throws(MediaError) {
        try decoder.send(packet)
        while let frame = try decoder.receive() {
            let monotonic = MonotonicClock.seconds()
            shared.withLock { shared in
                shared.decoded.record(bytes: 0, at: monotonic)
                shared.framesDecoded += 1
            }
            let time = frame.pts.map { timeBase.seconds($0) }
            var bySize: [SizeKey: [FrameSubscription]] = [:]
            for subscriber in subscribers { bySize[SizeKey(width: subscriber.width, height: subscriber.height), default: []].append(subscriber) }
            for (size, group) in bySize {
                let scaler: Scaler
                if let existing = scalers[size] { scaler = existing } else {
                    scaler = try Scaler(outputWidth: size.width, outputHeight: size.height)
                    scalers[size] = scaler
                }
                let image = try scaler.scale(frame)
                for subscriber in group { subscriber.publish(image, presentationTime: time) }
            }
            if scalers.count > bySize.count { scalers = scalers.filter { bySize[$0.key] != nil } }
        }
    }

    /// A short reason for status lines, credentials removed.
    static func shortReason(_ error: any Error) -> String {
        if let media = error as? MediaError {
            if media.kind == .timedOut { return "timed out (\(media.operation))" }
            if media.kind == .cancelled { return "stopped" }
            return "\(media.operation): \(media.message)"
        }
        return Redaction.redactCredentials(in: "\(error)")
    }
}

extension MonotonicClock {
    /// CLOCK_MONOTONIC in seconds.
    public static func seconds() -> Double { Double(nanoseconds()) / 1e9 }
}
