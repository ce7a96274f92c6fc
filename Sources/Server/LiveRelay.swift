import Foundation
import Logging
import Media
import Metrics
import NIOCore
import NIOPosix
import NIOWebSocket
import RecorderAPI
import RecorderCore
import Synchronization

/// The relays of live pictures: one per camera stream that some console shows, each with
/// one subscription to the recorder's own feed (so the camera sees one session, however
/// many consoles), a cache of the current group of pictures, and its viewers.
final class LiveRelays: Sendable {
    let core: RecorderCore
    private let relays = Mutex<[String: LiveRelay]>([:])

    init(core: RecorderCore) { self.core = core }

    /// Adds a viewer to the relay of `camera`'s `stream` (made and started when it is the first).
    func add(_ viewer: LiveViewer, camera: String, stream: StreamChoice) -> Bool {
        guard let feed = core.feed(camera: camera, stream: stream) else { return false }
        let key = "\(feed.cameraID)/\(feed.stream)"
        let relay = relays.withLock { relays in
            if let existing = relays[key], existing.isRunning { return existing }
            let made = LiveRelay(feed: feed) { [weak self] gone in self?.relays.withLock { if $0[key] === gone { $0[key] = nil } } }
            relays[key] = made
            return made
        }
        relay.add(viewer)
        viewer.relay = relay
        return true
    }

    func stopAll() {
        let all = relays.withLock { relays in
            defer { relays.removeAll() }
            return Array(relays.values)
        }
        for relay in all { relay.stop() }
    }
}

/// One camera stream relayed: a thread takes the feed's packets and offers each to every
/// viewer; it ends when the last viewer leaves (the feed lingers, then disconnects if
/// nothing else, the recorder for one, wants it).
final class LiveRelay: @unchecked Sendable {  // state guarded by `lock`
    private let feed: LiveFeed
    private let lock = NSLock()
    private var viewers: [ObjectIdentifier: LiveViewer] = [:]
    private var header: LiveMessage?
    /// The packets since the last keyframe (what a new viewer gets at once), bounded.
    private var groupOfPictures: [(Packet, Double)] = []
    private var groupBytes = 0
    private var running = true
    private let onEnd: @Sendable (LiveRelay) -> Void
    private let logger = Logger(label: "vigie.relay")
    static let groupLimit = (packets: 600, bytes: 24 << 20)
    private let viewersGauge: Gauge

    init(feed: LiveFeed, onEnd: @escaping @Sendable (LiveRelay) -> Void) {
        self.feed = feed
        self.onEnd = onEnd
        viewersGauge = Gauge(label: "vigie_live_viewers", dimensions: [("camera", feed.cameraID), ("stream", feed.stream)])
        let subscription = feed.subscribePackets(capacity: 300)
        let thread = Thread { [self] in pump(subscription) }
        thread.name = "relay \(feed.cameraID)/\(feed.stream)"
        thread.start()
    }

    var isRunning: Bool { lock.withLock { running } }

    func add(_ viewer: LiveViewer) {
        let (header, group) = lock.withLock { () -> (LiveMessage?, [(Packet, Double)]) in
            viewers[ObjectIdentifier(viewer)] = viewer
            return (self.header, groupOfPictures)
        }
        viewersGauge.record(lock.withLock { viewers.count })
        if let header {
            viewer.send(header)
            for (packet, received) in group { viewer.offer(packet, receivedAt: received) }
        }
    }

    func remove(_ viewer: LiveViewer) {
        let left = lock.withLock { () -> Int in
            viewers[ObjectIdentifier(viewer)] = nil
            return viewers.count
        }
        viewersGauge.record(left)
    }

    func stop() { lock.withLock { running = false } }

    private func pump(_ subscription: PacketSubscription) {
        defer {
            subscription.cancel()
            onEnd(self)
        }
        var idleSince: Double? = nil
        while true {
            let (alive, audience) = lock.withLock { (running, Array(viewers.values)) }
            guard alive else { return }
            if audience.isEmpty {
                // The last viewer left: a short grace (a zap back), then the relay ends.
                let now = MonotonicClock.seconds()
                if let since = idleSince, now - since > 5 {
                    lock.withLock { running = false }
                    return
                }
                if idleSince == nil { idleSince = now }
            } else {
                idleSince = nil
            }
            for event in subscription.takeAll(timeout: 0.25) {
                switch event {
                case .streamStarted(let video):
                    let parameters = video.parameters
                    let message = LiveMessage(
                        type: "stream", codec: parameters.codecName, width: parameters.width, height: parameters.height,
                        sampleAspect: parameters.sampleAspect.map { [$0.numerator, $0.denominator] },
                        timeBase: [video.timeBase.numerator, video.timeBase.denominator], framesPerSecond: video.framesPerSecond,
                        extradata: Data(parameters.extradata).base64EncodedString())
                    lock.withLock {
                        header = message
                        groupOfPictures.removeAll()
                        groupBytes = 0
                    }
                    for viewer in audience { viewer.send(message) }
                case .packet(let packet, let received):
                    lock.withLock {
                        if packet.isKeyframe {
                            groupOfPictures.removeAll(keepingCapacity: true)
                            groupBytes = 0
                        }
                        if !groupOfPictures.isEmpty || packet.isKeyframe {
                            groupOfPictures.append((packet, received))
                            groupBytes += packet.size
                            if groupOfPictures.count > LiveRelay.groupLimit.packets || groupBytes > LiveRelay.groupLimit.bytes {
                                groupOfPictures.removeAll()  // a group too long to keep: new viewers wait for the next keyframe
                                groupBytes = 0
                            }
                        }
                    }
                    for viewer in audience { viewer.offer(packet, receivedAt: received) }
                case .streamLost(_, let reason):
                    lock.withLock {
                        header = nil
                        groupOfPictures.removeAll()
                        groupBytes = 0
                    }
                    for viewer in audience { viewer.send(LiveMessage(type: "lost", reason: reason)) }
                }
            }
        }
    }
}

/// One console's WebSocket for one stream. Never slows the relay: when the connection
/// cannot take more (bytes written but not yet sent over `limit`), packets are dropped up to
/// the next keyframe, and counted.
final class LiveViewer: @unchecked Sendable {  // `relay` set once at registration; counters atomic
    let channel: any Channel
    weak var relay: LiveRelay?
    private let pending = Atomic<Int>(0)
    private let waitingForKeyframe = Atomic<Bool>(true)
    let dropped = Atomic<Int>(0)
    static let limit = 4 << 20

    init(channel: any Channel) { self.channel = channel }

    func send(_ message: LiveMessage) {
        waitingForKeyframe.store(true, ordering: .relaxed)
        var buffer = channel.allocator.buffer(capacity: 256)
        buffer.writeBytes(API.encode(message))
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: buffer), promise: nil)
    }

    func offer(_ packet: Packet, receivedAt: Double) {
        if waitingForKeyframe.load(ordering: .relaxed) {
            guard packet.isKeyframe else {
                dropped.add(1, ordering: .relaxed)
                return
            }
        }
        let size = packet.size + LivePacketHeader.size
        guard pending.load(ordering: .relaxed) + size <= LiveViewer.limit || pending.load(ordering: .relaxed) == 0 else {
            waitingForKeyframe.store(true, ordering: .relaxed)
            dropped.add(1, ordering: .relaxed)
            return
        }
        waitingForKeyframe.store(false, ordering: .relaxed)
        var buffer = channel.allocator.buffer(capacity: size)
        buffer.writeBytes(
            LivePacketHeader(
                isKeyframe: packet.isKeyframe, pts: packet.pts, dts: packet.dts, duration: packet.duration,
                receivedMicros: Int64(receivedAt * 1_000_000)
            ).bytes)
        packet.withPayload { buffer.writeBytes($0) }
        pending.add(size, ordering: .relaxed)
        let promise = channel.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { [self] _ in pending.subtract(size, ordering: .relaxed) }
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .binary, data: buffer), promise: promise)
    }
}

/// The WebSocket side of a viewer: answers pings and close frames, ignores the rest, and
/// leaves the relay when the connection ends. Every 2 s the session is checked again: a
/// revoked or expired one is cut.
final class LiveViewerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let viewer: LiveViewer
    private let stillAllowed: @Sendable () -> Bool
    private let pool: NIOThreadPool
    private var check: RepeatedTask?

    init(viewer: LiveViewer, pool: NIOThreadPool, stillAllowed: @escaping @Sendable () -> Bool) {
        self.viewer = viewer
        self.pool = pool
        self.stillAllowed = stillAllowed
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel, pool = pool, stillAllowed = stillAllowed
        check = context.eventLoop.scheduleRepeatedAsyncTask(initialDelay: .seconds(2), delay: .seconds(2)) { task in
            pool.runIfActive(eventLoop: channel.eventLoop) { stillAllowed() }.map { allowed in
                if !allowed {
                    var reason = channel.allocator.buffer(capacity: 64)
                    reason.write(webSocketErrorCode: .policyViolation)
                    reason.writeString("session revoked or expired")
                    channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: reason)).whenComplete { _ in channel.close(promise: nil) }
                    task.cancel()
                }
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.data)), promise: nil)
        case .connectionClose:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.data))).whenComplete { _ in
                context.close(promise: nil)
            }
        default:
            break  // the console says nothing else on this socket
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        viewer.relay?.remove(viewer)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
