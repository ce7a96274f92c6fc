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
/// many consoles), a cache of the current group of pictures, and its viewers. One thread
/// for them all, once a second, ends the relays no one has watched for a while.
final class LiveRelays: Sendable {
    let core: RecorderCore
    private let relays = Mutex<[String: LiveRelay]>([:])
    private let housekeeping = Mutex<(thread: Bool, stopped: Bool)>((false, false))
    private let tick = NSCondition()

    init(core: RecorderCore) { self.core = core }

    /// Adds a viewer to the relay of `camera`'s `stream` (made and started when it is the first).
    func add(_ viewer: LiveViewer, camera: String, stream: StreamChoice) -> Bool {
        guard let feed = core.feed(camera: camera, stream: stream) else { return false }
        startHousekeeping()
        let key = "\(feed.cameraID)/\(feed.stream)"
        // A relay ending (its last viewer left a while ago) takes no new viewer: a new one is made.
        while true {
            let relay = relays.withLock { relays in
                if let existing = relays[key], existing.isRunning { return existing }
                let made = LiveRelay(feed: feed)
                relays[key] = made
                return made
            }
            viewer.relay = relay
            if relay.add(viewer) { return true }
            relays.withLock { if $0[key] === relay { $0[key] = nil } }
        }
    }

    func stopAll() {
        housekeeping.withLock { $0.stopped = true }
        tick.lock()
        tick.broadcast()
        tick.unlock()
        let all = relays.withLock { relays in
            defer { relays.removeAll() }
            return Array(relays.values)
        }
        for relay in all { relay.stop() }
    }

    private func startHousekeeping() {
        let start = housekeeping.withLock { state -> Bool in
            guard !state.thread && !state.stopped else { return false }
            state.thread = true
            return true
        }
        guard start else { return }
        let thread = Thread { [self] in
            while !housekeeping.withLock({ $0.stopped }) {
                tick.lock()
                _ = tick.wait(until: Date().addingTimeInterval(1))
                tick.unlock()
                endIdle(at: MonotonicClock.seconds())
            }
        }
        thread.name = "relay housekeeping"
        thread.start()
    }

    /// Ends the relays left without viewers for longer than `LiveRelay.keepWarm`.
    func endIdle(at now: Double) {
        let ended = relays.withLock { relays -> [LiveRelay] in
            let idle = relays.filter { $0.value.endIfIdle(at: now) }
            for key in idle.keys { relays[key] = nil }
            return Array(idle.values)
        }
        for relay in ended { relay.stop() }
    }
}

/// One camera stream relayed: the feed hands it each packet on the feed's own thread (no
/// thread of its own to wake 25 times a second), and it offers the packet to every viewer's
/// event loop without waiting. It stays `keepWarm` seconds after the last viewer leaves,
/// its group of pictures kept current, so that a console zapping back to the page paints
/// it at once; then it ends (the feed lingers, then disconnects if nothing else, the
/// recorder for one, wants it).
final class LiveRelay: @unchecked Sendable {  // state guarded by `lock`
    private let lock = NSLock()
    private var viewers: [ObjectIdentifier: LiveViewer] = [:]
    private var header: LiveMessage?
    /// The packets since the last keyframe (what a new viewer gets at once), bounded.
    private var groupOfPictures: [RelayedPacket] = []
    private var groupBytes = 0
    private var running = true
    private var idleSince: Double?
    private var subscription: PacketSubscription?
    /// Seconds a relay with no viewer goes on (a wall zapping through its pages comes back
    /// to a page within minutes): only packets, no decoding, one camera session it has anyway.
    static let keepWarm: Double = 120
    static let groupLimit = (packets: 600, bytes: 24 << 20)
    private let viewersGauge: Gauge
    /// Packets not sent to a viewer that was behind (it went on from the next keyframe).
    let droppedCounter: Counter

    init(feed: LiveFeed) {
        viewersGauge = Gauge(label: "vigie_live_viewers", dimensions: [("camera", feed.cameraID), ("stream", feed.stream)])
        droppedCounter = Counter(label: "vigie_live_packets_dropped", dimensions: [("camera", feed.cameraID), ("stream", feed.stream)])
        // Caught up from the feed's group of pictures: the first viewer of a stream the recorder
        // already reads (it records it) paints at once, not at the camera's next keyframe.
        let subscription = feed.subscribePackets(catchUp: true) { [weak self] event in self?.handle(event) }
        lock.withLock { self.subscription = subscription }
    }

    var isRunning: Bool { lock.withLock { running } }

    /// Adds a viewer: the stream's description and the current group of pictures are queued
    /// to it under the lock, so every later packet (sent to the viewers seen under the same
    /// lock) comes after them. False when the relay is ending.
    func add(_ viewer: LiveViewer) -> Bool {
        let count = lock.withLock { () -> Int? in
            guard running else { return nil }
            viewers[ObjectIdentifier(viewer)] = viewer
            idleSince = nil
            if let header {
                viewer.send(header)
                for frame in groupOfPictures { viewer.offer(frame) }
            }
            return viewers.count
        }
        guard let count else { return false }
        viewersGauge.record(count)
        return true
    }

    func remove(_ viewer: LiveViewer) {
        let left = lock.withLock { () -> Int in
            viewers[ObjectIdentifier(viewer)] = nil
            if viewers.isEmpty && idleSince == nil { idleSince = MonotonicClock.seconds() }
            return viewers.count
        }
        viewersGauge.record(left)
    }

    /// Decides, under the lock, whether the relay ends: no viewer for `keepWarm` seconds. A
    /// viewer joining at that moment is either seen or refused (and gets a new relay).
    func endIfIdle(at now: Double) -> Bool {
        lock.withLock {
            guard running, viewers.isEmpty else { return false }
            guard let since = idleSince else {
                idleSince = now
                return false
            }
            if now - since <= LiveRelay.keepWarm { return false }
            running = false
            return true
        }
    }

    /// Ends the relay: its subscription is cancelled (the feed calls it no more once this
    /// returns but for an event already being handed over, which finds it stopped), and the
    /// viewers still there (the recorder stopping) are closed: their consoles reconnect, as
    /// to a camera.
    func stop() {
        let (left, subscription) = lock.withLock { () -> ([LiveViewer], PacketSubscription?) in
            running = false
            defer {
                viewers.removeAll()
                self.subscription = nil
            }
            return (Array(viewers.values), self.subscription)
        }
        subscription?.cancel()
        viewersGauge.record(0)
        for viewer in left { viewer.channel.close(promise: nil) }
    }

    /// One event from the feed, on the feed's thread: never blocks (the viewers' writes are
    /// queued to their event loops, one turn of each loop for all its viewers).
    private func handle(_ event: FeedEvent) {
        switch event {
        case .streamStarted(let video):
            let message = LiveMessage(describing: video)
            for viewer in newStream(message) { viewer.send(message) }
        case .packet(let packet, let received):
            let frame = RelayedPacket(packet, receivedAt: received)
            let audience = lock.withLock { () -> [LiveViewer] in
                guard running else { return [] }
                if packet.isKeyframe {
                    groupOfPictures.removeAll(keepingCapacity: true)
                    groupBytes = 0
                }
                if !groupOfPictures.isEmpty || packet.isKeyframe {
                    groupOfPictures.append(frame)
                    groupBytes += frame.wire.readableBytes
                    if groupOfPictures.count > LiveRelay.groupLimit.packets || groupBytes > LiveRelay.groupLimit.bytes {
                        groupOfPictures.removeAll()  // a group too long to keep: new viewers wait for the next keyframe
                        groupBytes = 0
                    }
                }
                return Array(viewers.values)
            }
            LiveRelay.deliver(frame, to: audience)
        case .streamLost(_, let reason):
            for viewer in newStream(nil) { viewer.send(LiveMessage(type: "lost", reason: reason)) }
        }
    }

    /// A stream starts (`header`) or is lost (nil): the cached group of pictures goes; the
    /// viewers to tell.
    private func newStream(_ message: LiveMessage?) -> [LiveViewer] {
        lock.withLock {
            guard running else { return [] }
            header = message
            groupOfPictures.removeAll()
            groupBytes = 0
            return Array(viewers.values)
        }
    }

    /// One turn of each event loop for all the viewers it serves, not one a viewer (the
    /// viewers are nearly always on one loop: no dictionary, and no array made, for that).
    static func deliver(_ frame: RelayedPacket, to audience: [LiveViewer]) {
        guard let loop = audience.first?.channel.eventLoop else { return }
        if audience.allSatisfy({ $0.channel.eventLoop === loop }) {
            loop.execute { for viewer in audience { viewer.deliver(frame) } }
            return
        }
        var rest = audience[...]
        while let first = rest.first {
            let loop = first.channel.eventLoop
            let same = rest.filter { $0.channel.eventLoop === loop }
            rest = rest.filter { $0.channel.eventLoop !== loop }
            loop.execute { for viewer in same { viewer.deliver(frame) } }
        }
    }
}

/// One console's WebSocket for one stream. Never slows the relay: when the connection
/// cannot take more (NIO's buffer of bytes written but not yet sent over `limit`: the
/// channel is no longer writable), packets are dropped up to the next keyframe, and counted.
final class LiveViewer: @unchecked Sendable {  // `relay` set once at registration; `waitingForKeyframe` and `writer` only on the event loop
    let channel: any Channel
    weak var relay: LiveRelay?
    /// Where the packets' frames, already encoded, enter the pipeline (below the WebSocket
    /// encoder); it must be added to the channel's pipeline with `addWriter`.
    let writer = PreEncodedFrames()
    /// Read and written on the channel's event loop only.
    private var waitingForKeyframe = true
    /// The connection could not take a packet: what is skipped until the next keyframe is dropped.
    private var behind = false
    let dropped = Atomic<Int>(0)
    static let limit = 4 << 20

    init(channel: any Channel) {
        self.channel = channel
        channel.setOption(ChannelOptions.writeBufferWaterMark, value: .init(low: LiveViewer.limit / 2, high: LiveViewer.limit)).whenFailure { _ in }
    }

    /// Every write goes through the event loop's queue, never inline: a relay writes while it
    /// holds its lock (so a new viewer's first frames come before any later packet), and an
    /// inline write that fails would close the channel and re-enter the relay from here.
    func send(_ message: LiveMessage) {
        var buffer = channel.allocator.buffer(capacity: 256)
        buffer.writeBytes(API.encode(message))
        let frame = WebSocketFrame(fin: true, opcode: .text, data: buffer)
        channel.eventLoop.execute { [self] in
            waitingForKeyframe = true
            channel.writeAndFlush(frame, promise: nil)
        }
    }

    /// A packet for this viewer alone (the group of pictures a new viewer gets), queued to its loop.
    func offer(_ frame: RelayedPacket) { channel.eventLoop.execute { [self] in deliver(frame) } }

    /// Writes a packet, on the channel's event loop: dropped, up to the next keyframe, while
    /// the connection is behind.
    func deliver(_ frame: RelayedPacket) {
        if waitingForKeyframe {
            // Before its first picture, or a new stream's, a viewer skips nothing it had.
            guard frame.isKeyframe else { return behind ? drop() : () }
        }
        guard channel.isWritable else {
            waitingForKeyframe = true
            behind = true
            return drop()
        }
        waitingForKeyframe = false
        behind = false
        writer.writeAndFlush(frame.wire)
    }

    /// Puts the writer of pre-encoded frames into the pipeline of an upgraded WebSocket, just
    /// below its frame encoder (on the channel's event loop).
    func addWriter() throws {
        let encoder = try channel.pipeline.syncOperations.handler(type: WebSocketFrameEncoder.self)
        try channel.pipeline.syncOperations.addHandler(writer, position: .before(encoder))
    }

    private func drop() {
        dropped.add(1, ordering: .relaxed)
        relay?.droppedCounter.increment()
    }
}

extension LiveMessage {
    /// The `stream` message of a stream: what a console needs to decode it.
    init(describing video: StreamInfo, origin: Int64? = nil, segment: String? = nil) {
        let parameters = video.parameters
        self.init(
            type: "stream", codec: parameters.codecName, width: parameters.width, height: parameters.height,
            sampleAspect: parameters.sampleAspect.map { [$0.numerator, $0.denominator] },
            timeBase: [video.timeBase.numerator, video.timeBase.denominator], framesPerSecond: video.framesPerSecond,
            extradata: Data(parameters.extradata).base64EncodedString(), origin: origin, segment: segment)
    }
}

/// A packet as every viewer receives it: the whole WebSocket frame (a final binary frame,
/// unmasked as a server's are; then the packet's header and payload), encoded once per packet
/// and shared by all the viewers' writes (the buffer is copy-on-write and never changed), so
/// that each write is one buffer and one system call, not a frame header made for each viewer.
struct RelayedPacket: Sendable {
    let wire: ByteBuffer
    let isKeyframe: Bool

    init(_ packet: Packet, receivedAt: Double) {
        let length = packet.size + LivePacketHeader.size
        var buffer = ByteBufferAllocator().buffer(capacity: length + 10)
        buffer.writeInteger(UInt8(0x82))  // FIN, binary (RFC 6455 5.2)
        switch length {
        case ..<126: buffer.writeInteger(UInt8(length))
        case ...0xFFFF:
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        default:
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
        buffer.writeBytes(
            LivePacketHeader(
                isKeyframe: packet.isKeyframe, pts: packet.pts, dts: packet.dts, duration: packet.duration,
                receivedMicros: Int64(receivedAt * 1_000_000)
            ).bytes)
        _ = packet.withPayload { buffer.writeBytes($0) }
        wire = buffer
        isKeyframe = packet.isKeyframe
    }
}

/// Below a WebSocket's frame encoder: the way in for frames already encoded (the relay's
/// packets), which go from here to the socket (or TLS) untouched; what the encoder writes
/// passes through.
final class PreEncodedFrames: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// On the channel's event loop.
    func writeAndFlush(_ frame: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }
}

/// The WebSocket side of a viewer (live or playback): answers pings and close frames,
/// ignores the rest, and says when the connection ends (the viewer leaves its relay, a
/// playback stops). Every 2 s the session is checked again: a revoked or expired one is cut.
final class LiveViewerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let ended: @Sendable () -> Void
    private let stillAllowed: @Sendable () -> Bool
    private let pool: NIOThreadPool
    private var check: RepeatedTask?

    init(pool: NIOThreadPool, stillAllowed: @escaping @Sendable () -> Bool, ended: @escaping @Sendable () -> Void) {
        self.ended = ended
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
                    // A console that reads nothing (a paused playback) never takes the close frame: cut anyway.
                    channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
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
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.data))).whenComplete { _ in
                channel.close(promise: nil)
            }
        default:
            break  // the console says nothing else on this socket
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        ended()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        Logger(label: "vigie.relay").debug("a viewer's connection failed: \(error)")
        context.close(promise: nil)
    }
}
