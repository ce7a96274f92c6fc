import Foundation
public import Media
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import RecorderAPI

/// A WebSocket to the recorder that delivers a stream's frames (live or played back) to
/// the one thread that reads them.
final class StreamSocket: @unchecked Sendable {  // the inbox is guarded by its condition; `channel` set once
    let channel: any Channel
    let inbox: Inbox
    let source: String

    /// What the WebSocket delivers, in order, to the one thread that reads.
    final class Inbox: @unchecked Sendable {  // guarded by `condition`
        enum Item {
            case message(LiveMessage)
            case packet(LivePacketHeader, [UInt8])
            case closed(String)
        }
        let condition = NSCondition()
        var items: [Item] = []
        var head = 0
        /// The most packets it holds: live, a few seconds' worth before the oldest go; played
        /// back, 4 s at 25 a second before the socket stops being read (the player draws at
        /// its pace from there, and the recorder waits).
        let capacity: Int
        /// And the most packet bytes it holds (a stream of keyframes only, MJPEG, is large).
        let byteCapacity: Int
        /// Bytes of the packets queued.
        var bytes = 0
        /// Live: a reader that falls behind loses the oldest packets. Playback: nothing is
        /// lost, the socket stops being read instead (the recorder then waits).
        let flowControlled: Bool
        /// Set while the socket is not read, to read it again.
        var resume: (@Sendable () -> Void)?

        init(flowControlled: Bool) {
            self.flowControlled = flowControlled
            (capacity, byteCapacity) = flowControlled ? (100, 4 << 20) : (600, 16 << 20)
        }

        /// Adds an item; for a flow-controlled inbox, whether it is now full.
        func push(_ item: Item) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            items.append(item)
            if case .packet(_, let payload) = item { bytes += payload.count }
            condition.signal()
            if flowControlled { return full }
            // The reader is behind: the oldest packets go (the decoder resyncs on a keyframe).
            while full, let drop = items[head...].firstIndex(where: { if case .packet = $0 { true } else { false } }) {
                if case .packet(_, let payload) = items[drop] { bytes -= payload.count }
                items.remove(at: drop)
            }
            return false
        }

        /// Over its bounds (guarded by `condition`).
        var full: Bool { items.count - head > capacity || bytes > byteCapacity }
        /// Down to half its bounds: a stopped socket is read again (guarded by `condition`).
        var drained: Bool { items.count - head < capacity / 2 && bytes < byteCapacity / 2 }

        func pop(until deadline: Date) -> Item? {
            condition.lock()
            while head >= items.count {
                if !condition.wait(until: deadline) {
                    condition.unlock()
                    return nil
                }
            }
            let item = items[head]
            if case .packet(_, let payload) = item { bytes -= payload.count }
            head += 1
            if head > 256 {
                items.removeFirst(head)
                head = 0
            }
            var wake: (@Sendable () -> Void)? = nil
            if let resume, drained {
                wake = resume
                self.resume = nil
            }
            condition.unlock()
            wake?()
            return item
        }
    }

    /// Connects, sends GET `path` with an upgrade, and waits for the upgrade (at most `timeout` seconds).
    init(address: ServerAddress, trust: ServerTrust?, token: String?, path: String, flowControlled: Bool, timeout: Double, source: String) throws(MediaError) {
        self.source = source
        let inbox = Inbox(flowControlled: flowControlled)
        self.inbox = inbox
        let group = MultiThreadedEventLoopGroup.singleton
        let upgraded = group.next().makePromise(of: Void.self)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "vigie")
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        let requestHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .tls(let host, _) = address {
                        try channel.pipeline.syncOperations.addHandler(try RecorderClient.tlsHandler(host: host, trust: trust))
                    }
                    let refused = RefusedUpgrade(promise: upgraded)
                    let bound = NIOLoopBound(refused, eventLoop: channel.eventLoop)
                    let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 32 << 20, automaticErrorHandling: true) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            // Upgraded: what follows are WebSocket frames, no longer an HTTP answer.
                            channel.pipeline.syncOperations.removeHandler(bound.value, promise: nil)
                            try channel.pipeline.syncOperations.addHandler(LiveFrameReader(inbox: inbox))
                        }.map { upgraded.succeed() }
                    }
                    // The recorder sends the stream's description and its first packets right
                    // after the upgrade's answer, often in the same read: those bytes are frames.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes, withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                    try channel.pipeline.syncOperations.addHandler(refused)
                }
            }
        let channel: any Channel
        do {
            channel = try address.connect(bootstrap)
        } catch {
            upgraded.fail(error)
            throw MediaError(kind: .io, operation: "connect", source: source, message: "the recorder is unreachable (\(error))")
        }
        self.channel = channel
        // The request's head and end in one turn of the channel's loop: written apart, the
        // recorder's upgrade could be read between them, and the end would then reach the
        // WebSocket encoder (a crash seen with 16 streams at once).
        channel.eventLoop.execute {
            channel.write(HTTPClientRequestPart.head(requestHead), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
            upgraded.fail(MediaError(kind: .timedOut, operation: "connect", source: source, message: "the recorder did not answer"))
        }
        do {
            try upgraded.futureResult.wait()
            timer.cancel()
        } catch {
            timer.cancel()
            channel.close(promise: nil)
            if let error = error as? MediaError { throw error }
            throw MediaError(kind: .io, operation: "connect", source: source, message: "\(error)")
        }
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    func close() { channel.close(promise: nil) }

    deinit { channel.close(promise: nil) }
}

/// A camera stream relayed by the recorder (GET /v1/live/{camera}/{stream} as a WebSocket),
/// as a packet source: a console's feed reads it as it would read a camera, and decodes it
/// itself. The camera's loss at the recorder, the recorder gone, a revoked session all end
/// `read()` with an error: the feed then reconnects with its backoff, as for a camera.
public final class RemotePacketSource: PacketSource, @unchecked Sendable {  // read by one thread
    public let video: StreamInfo
    public let transport = "vigie"
    public let interrupt: InterruptFlag
    private let socket: StreamSocket
    /// When the recorder received the packet `read()` returned last (microseconds since 1970):
    /// what the relay's delay is measured from.
    public private(set) var lastReceivedMicros: Int64 = 0

    /// Connects and waits for the stream's description (at most `timeout` seconds).
    public init(
        address: ServerAddress, trust: ServerTrust?, token: String?, camera: String, stream: String, interrupt: InterruptFlag = InterruptFlag(),
        timeout: Double = 10
    ) throws(MediaError) {
        self.interrupt = interrupt
        let source = "vigie://\(address)/\(camera)/\(stream)"
        let socket = try StreamSocket(
            address: address, trust: trust, token: token, path: "/v1/live/\(StreamSocket.escape(camera))/\(stream)", flowControlled: false,
            timeout: timeout, source: source)
        self.socket = socket
        let inbox = socket.inbox
        // The stream's description comes first (at once when the camera is live).
        let deadline = Date().addingTimeInterval(timeout)
        var found: StreamInfo? = nil
        while found == nil {
            if interrupt.isCancelled {
                socket.close()
                throw MediaError(kind: .cancelled, operation: "open", source: source, message: "cancelled")
            }
            switch inbox.pop(until: min(deadline, Date().addingTimeInterval(0.2))) {
            case .message(let message) where message.type == "stream":
                found = RemotePacketSource.streamInfo(message)
                if found == nil {
                    socket.close()
                    throw MediaError(kind: .unsupportedCodec, operation: "open", source: source, message: "the relayed stream cannot be decoded here")
                }
            case .closed(let why):
                throw MediaError(kind: .io, operation: "open", source: source, message: why)
            case .message, .packet:
                continue
            case nil:
                if Date() >= deadline {
                    socket.close()
                    throw MediaError(kind: .timedOut, operation: "open", source: source, message: "the recorder has no picture of this camera now")
                }
            }
        }
        video = found!
    }

    static func streamInfo(_ message: LiveMessage) -> StreamInfo? {
        guard let codec = message.codec, let width = message.width, let height = message.height, let base = message.timeBase, base.count == 2,
            base[0] > 0, base[1] > 0
        else { return nil }
        let sample = message.sampleAspect.flatMap { $0.count == 2 && $0[0] > 0 && $0[1] > 0 ? Rational($0[0], $0[1]) : nil }
        let extradata = message.extradata.flatMap { Data(base64Encoded: $0) }.map { Array($0) } ?? []
        guard let parameters = CodecParameters(videoCodec: codec, width: width, height: height, sampleAspect: sample, extradata: extradata) else {
            return nil
        }
        return StreamInfo(parameters: parameters, timeBase: Rational(base[0], base[1]), framesPerSecond: Int((message.framesPerSecond ?? 25).rounded()))
    }

    public func read() throws(MediaError) -> Packet? {
        while true {
            if interrupt.isCancelled {
                socket.close()
                throw MediaError(kind: .cancelled, operation: "read", source: "vigie", message: "cancelled")
            }
            switch socket.inbox.pop(until: Date().addingTimeInterval(0.2)) {
            case .packet(let header, let payload):
                let packet = payload.withUnsafeBytes {
                    Packet(payload: $0, pts: header.pts, dts: header.dts, duration: header.duration, isKeyframe: header.isKeyframe, timeBase: video.timeBase)
                }
                if let packet {
                    lastReceivedMicros = header.receivedMicros
                    return packet
                }
            case .message(let message):
                socket.close()
                if message.type == "lost" {
                    throw MediaError(kind: .io, operation: "read", source: "vigie", message: "the recorder lost the camera: \(message.reason ?? "")")
                }
                // The camera's stream started anew (its parameters may differ): open again.
                throw MediaError(kind: .io, operation: "read", source: "vigie", message: "the camera's stream started anew")
            case .closed(let why):
                throw MediaError(kind: .io, operation: "read", source: "vigie", message: why)
            case nil:
                continue
            }
        }
    }

}

/// Frames of the WebSocket into the inbox; a full flow-controlled inbox stops the reading
/// until its reader has taken half.
private final class LiveFrameReader: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame
    private let inbox: StreamSocket.Inbox
    private var closedSaid = false

    init(inbox: StreamSocket.Inbox) { self.inbox = inbox }

    private func push(_ item: StreamSocket.Inbox.Item, _ context: ChannelHandlerContext) {
        guard inbox.push(item) else { return }
        let channel = context.channel
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenSuccess {
            let inbox = self.inbox
            inbox.condition.lock()
            inbox.resume = {
                channel.eventLoop.execute {
                    channel.setOption(ChannelOptions.autoRead, value: true).whenSuccess { channel.read() }
                }
            }
            // Emptied in the meantime: read again at once.
            let drained = inbox.drained
            let resume = drained ? inbox.resume : nil
            if drained { inbox.resume = nil }
            inbox.condition.unlock()
            resume?()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary:
            let bytes = frame.data.readBytes(length: frame.data.readableBytes) ?? []
            let header = bytes.withUnsafeBytes { LivePacketHeader.parse($0) }
            if let header { push(.packet(header, Array(bytes[LivePacketHeader.size...])), context) }
        case .text:
            if let message = try? API.decode(LiveMessage.self, from: frame.data.readableBytesView) { push(.message(message), context) }
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.data)), promise: nil)
        case .connectionClose:
            var data = frame.data
            _ = data.readWebSocketErrorCode()
            let reason = data.readString(length: data.readableBytes) ?? ""
            say("the recorder closed the stream\(reason.isEmpty ? "" : ": \(reason)")")
            context.close(promise: nil)
        default:
            break
        }
    }

    private func say(_ why: String) {
        guard !closedSaid else { return }
        closedSaid = true
        _ = inbox.push(.closed(why))
    }

    func channelInactive(context: ChannelHandlerContext) {
        say("the connection to the recorder ended")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        say("the connection to the recorder failed: \(error)")
        context.close(promise: nil)
    }
}

/// When the recorder answers the upgrade with a plain HTTP answer (refused, no such camera),
/// the connection fails with its words.
private final class RefusedUpgrade: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let promise: EventLoopPromise<Void>
    private var status = 0
    private var body: [UInt8] = []

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body(var buffer): body += buffer.readBytes(length: min(buffer.readableBytes, 4096)) ?? []
        case .end:
            let message = (try? API.decode(ErrorMessage.self, from: body).error) ?? "HTTP \(status)"
            promise.fail(MediaError(kind: .io, operation: "connect", source: "vigie", message: "the recorder refused the stream: \(message)"))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
