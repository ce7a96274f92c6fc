import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import RecorderCore
import Synchronization

/// The recorder as the site's server: HTTP/1.1 on a Unix socket in the storage folder (the
/// peer's Unix user read from the kernel with SO_PEERCRED) and, when asked, on TCP with
/// TLS 1.3 only. One event loop moves bytes; the API's work (the catalog blocks, passwords
/// are hashed) runs on a small thread pool, so a slow request never holds another
/// connection. Each request must arrive whole within `requestTimeout` of its first byte (a
/// client sending nothing or dribbling bytes is dropped), bodies are limited to `maximumBody`,
/// and an idle connection is closed after `idleTimeout`.
public final class RecorderServer: Sendable {
    public let api: ServerAPI
    private let group: MultiThreadedEventLoopGroup
    private let pool: NIOThreadPool
    private let channels = Mutex<[any Channel]>([])
    private let relays: LiveRelays?
    private let logger = Logger(label: "vigie.server")
    public static let maximumBody = 1 << 20
    static let requestTimeout: TimeAmount = .seconds(10)
    static let idleTimeout: TimeAmount = .seconds(120)

    public init(api: ServerAPI) {
        self.api = api
        relays = api.core.map(LiveRelays.init)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
    }

    /// Listens on a Unix socket (an old one left by a crash is replaced), mode 0666: who may
    /// do what is decided per request from the peer's Unix user.
    public func listen(unixSocket path: String) throws {
        if FileManager.default.fileExists(atPath: path) { unlink(path) }
        let pool = pool, api = api, relays = relays
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .childChannelInitializer { channel in
                RecorderServer.peerUser(channel).flatMap { user in
                    channel.eventLoop.makeCompletedFuture {
                        try RecorderServer.configure(channel.pipeline.syncOperations, peer: .local(unixUser: user), api: api, pool: pool, relays: relays)
                    }
                }
            }
            .bind(unixDomainSocketPath: path).wait()
        chmod(path, 0o666)
        channels.withLock { $0.append(channel) }
        logger.notice("serving local consoles on \(path)")
    }

    /// Listens on TCP with TLS 1.3; returns the port (0 asks the system for one).
    @discardableResult
    public func listen(host: String, port: Int, tls: TLSIdentity) throws -> Int {
        let context = try NIOSSLContext(configuration: tls.serverConfiguration())
        let pool = pool, api = api, relays = relays
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let address = channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try RecorderServer.configure(channel.pipeline.syncOperations, peer: .remote(address: address), api: api, pool: pool, relays: relays)
                }
            }
            .bind(host: host, port: port).wait()
        channels.withLock { $0.append(channel) }
        let bound = channel.localAddress?.port ?? port
        logger.notice("serving consoles on \(host):\(bound) (TLS 1.3, certificate \(tls.fingerprint))")
        return bound
    }

    static func configure(_ pipeline: ChannelPipeline.SynchronousOperations, peer: Peer, api: ServerAPI, pool: NIOThreadPool, relays: LiveRelays?) throws {
        let http = HTTPConnectionHandler(peer: peer, api: api, pool: pool)
        // GET /v1/live/{camera}/{stream} with an upgrade becomes a viewer of that stream's relay,
        // GET /v1/playback/{camera}?at= the reader of its recordings, when the account may
        // (else the request goes on to `http`, which says why).
        let grant = GrantBox()
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 16, automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                let request = APIRequest(method: "GET", target: head.uri, authorization: head.headers.first(name: "authorization"), body: [], peer: peer)
                return pool.runIfActive(eventLoop: channel.eventLoop) { api.streamGrant(request) }.map { found in
                    grant.value.withLock { $0 = found }
                    return found == nil ? nil : HTTPHeaders()
                }
            },
            upgradePipelineHandler: { channel, _ in
                guard let granted = grant.value.withLock({ $0 }) else { return channel.close() }
                switch granted.kind {
                case .live(let stream):
                    guard let relays else { return channel.close() }
                    let viewer = LiveViewer(channel: channel)
                    return channel.eventLoop.makeCompletedFuture {
                        try viewer.addWriter()
                        try channel.pipeline.syncOperations.addHandler(
                            LiveViewerHandler(
                                pool: pool, stillAllowed: { api.stillAllowed(granted) }, ended: { [weak viewer] in if let viewer { viewer.relay?.remove(viewer) } }))
                    }.map { _ = relays.add(viewer, camera: granted.camera, stream: stream) }
                case .playback(let at, let consultation):
                    let streamer = PlaybackStreamer(channel: channel, api: api, grant: granted, at: at, consultation: consultation)
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            LiveViewerHandler(pool: pool, stillAllowed: { api.stillAllowed(granted) }, ended: { streamer.stop() }))
                    }.map { streamer.start() }
                }
            })
        let handler = NIOLoopBound(http, eventLoop: pipeline.eventLoop)
        try pipeline.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                context.pipeline.syncOperations.removeHandler(handler.value, promise: nil)
            }), withErrorHandling: true)
        try pipeline.addHandler(http)
    }

    /// The Unix user at the other end of a local connection, as the kernel says.
    static func peerUser(_ channel: any Channel) -> EventLoopFuture<String> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ServerError("no peer credentials on this channel"))
        }
        let credentials: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return credentials.map { credentials in
            guard let entry = getpwuid(credentials.uid), let name = entry.pointee.pw_name else { return "uid\(credentials.uid)" }
            return String(cString: name)
        }
    }

    public func shutdown() {
        let open = channels.withLock { channels in
            defer { channels.removeAll() }
            return channels
        }
        relays?.stopAll()
        api.stopPlaybacks()
        for channel in open { try? channel.close().wait() }
        try? group.syncShutdownGracefully()
        try? pool.syncShutdownGracefully()
    }
}

/// What a connection's upgrade check found, for its upgrade.
final class GrantBox: Sendable {
    let value = Mutex<ServerAPI.LiveGrant?>(nil)
}

/// `struct ucred` as SO_PEERCRED fills it (pid, uid, gid).
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// One connection: gathers each request (bounded in size and time), hands it to the API on
/// the pool, writes the answer. Requests on a connection are answered in order.
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let peer: Peer
    private let api: ServerAPI
    private let pool: NIOThreadPool
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var busy = false
    private var deadline: Scheduled<Void>?

    init(peer: Peer, api: ServerAPI, pool: NIOThreadPool) {
        self.peer = peer
        self.api = api
        self.pool = pool
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, after: RecorderServer.requestTimeout)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }

    /// Closes the connection when no whole request came in time.
    private func arm(_ context: ChannelHandlerContext, after delay: TimeAmount) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: delay) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            if head == nil && !busy { arm(context, after: RecorderServer.requestTimeout) }
            head = request
            body.removeAll(keepingCapacity: true)
            tooLarge = false
            if let length = request.headers.first(name: "content-length").flatMap(Int.init), length > RecorderServer.maximumBody { tooLarge = true }
        case .body(var buffer):
            if body.count + buffer.readableBytes > RecorderServer.maximumBody {
                tooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes
            }
        case .end:
            guard let request = head else { return }
            head = nil
            deadline?.cancel()
            if tooLarge {
                respond(context, request, APIReply.error(413, "the request body is larger than \(RecorderServer.maximumBody) bytes"), close: true)
                return
            }
            let call = APIRequest(
                method: request.method.rawValue, target: request.uri, authorization: request.headers.first(name: "authorization"), body: body, peer: peer)
            body = []
            busy = true
            let api = api
            let answer = pool.runIfActive(eventLoop: context.eventLoop) { api.handle(call) }
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            answer.whenComplete { result in
                let (handler, context) = loopBound.value
                handler.busy = false
                let reply = (try? result.get()) ?? APIReply.error(503, "the recorder is stopping")
                handler.respond(context, request, reply, close: !request.isKeepAlive)
            }
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ request: HTTPRequestHead, _ reply: APIReply, close: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: reply.contentType)
        headers.add(name: "Content-Length", value: "\(reply.body.count)")
        headers.add(name: "Cache-Control", value: "no-store")
        for (name, value) in reply.headers { headers.add(name: name, value: value) }
        if close { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: request.version, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !reply.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: reply.body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if close { channel.close(promise: nil) }
        }
        if !close { arm(context, after: RecorderServer.idleTimeout) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A refused upgrade (no such stream, or the account may not watch it): the request
        // comes on here as a plain one, and its answer says why.
        if error is NIOWebSocketUpgradeError { return }
        Logger(label: "vigie.server").debug("connection from \(peer) failed: \(error)")
        context.close(promise: nil)
    }
}
