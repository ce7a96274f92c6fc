import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
public import RecorderAPI
import Synchronization

/// Where a recorder listens: its Unix socket (local consoles and commands) or HOST:PORT
/// over TLS 1.3.
public enum ServerAddress: Sendable, Hashable, CustomStringConvertible {
    case unix(path: String)
    case tls(host: String, port: Int)

    /// HOST:PORT ([IPv6]:PORT), or a path to a socket.
    public static func parse(_ text: String) -> ServerAddress? {
        if text.contains("/") { return .unix(path: text) }  // a socket path (HOST:PORT has no slash)
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port), !host.isEmpty else { return nil }
            return .tls(host: host, port: port)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
        return .tls(host: String(parts[0]), port: port)
    }

    /// Connects a bootstrap to this address (the socket path, or the host and port), waiting.
    func connect(_ bootstrap: ClientBootstrap) throws -> any Channel {
        switch self {
        case .unix(let path): try bootstrap.connect(unixDomainSocketPath: path).wait()
        case .tls(let host, let port): try bootstrap.connect(host: host, port: port).wait()
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): path
        case .tls(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}

/// How a client trusts the recorder's certificate: pinned by its SHA-256 fingerprint (a
/// self-signed certificate), or checked against a CA file with the host name.
public enum ServerTrust: Sendable, Hashable {
    case fingerprint(String)
    case certificateAuthority(file: String)
}

public struct ClientError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case unreachable, refused, protocolError, untrusted }
    public let kind: Kind
    public let description: String
    public let status: Int
    public init(_ kind: Kind, _ description: String, status: Int = 0) {
        self.kind = kind
        self.description = description
        self.status = status
    }
}

/// A command's or a console's connection to the recorder: one HTTP/1.1 request at a time,
/// answered in full. Blocking (commands run on their own thread; a console calls it from a
/// worker, never from its drawing thread).
public final class RecorderClient: RecorderTransport {
    public var origin: String { "the recorder at \(address)" }

    public func exchange(_ method: String, _ path: String, body: [UInt8]?) throws(ServiceError) -> ServiceResponse {
        do {
            let response = try send(method, path, body: body)
            return ServiceResponse(status: response.status, body: response.body, headers: response.headers)
        } catch {
            throw ServiceError(error.kind == .untrusted ? .untrusted : error.kind == .unreachable ? .unreachable : .protocolError, error.description)
        }
    }

    public let address: ServerAddress
    public let trust: ServerTrust?
    public let token: String?
    let timeout: TimeAmount

    public init(address: ServerAddress, trust: ServerTrust? = nil, token: String? = nil, timeoutSeconds: Int64 = 15) {
        self.address = address
        self.trust = trust
        self.token = token
        self.timeout = .seconds(timeoutSeconds)
    }

    public struct Response: Sendable {
        public let status: Int
        public let body: [UInt8]
        public let headers: [(String, String)]
        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// Sends one request and waits for the whole answer.
    public func send(_ method: String, _ path: String, body: [UInt8]? = nil) throws(ClientError) -> Response {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: Response.self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { [address, trust] channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .tls(let host, _) = address {
                        try channel.pipeline.syncOperations.addHandler(try RecorderClient.tlsHandler(host: host, trust: trust))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                }
            }
        let channel: any Channel
        do {
            channel = try address.connect(bootstrap)
        } catch {
            promise.fail(error)
            throw ClientError(.unreachable, "the recorder at \(address) is unreachable (\(error))")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "vigie")
        headers.add(name: "Connection", value: "close")
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: "\(body.count)")
        }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(ClientError(.unreachable, "the recorder at \(self.address) did not answer within \(self.timeout.nanoseconds / 1_000_000_000) s"))
            channel.close(promise: nil)
        }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        do {
            return try promise.futureResult.wait()
        } catch let error as ClientError {
            throw error
        } catch let error as NIOSSLError {
            if case .fingerprint(let pinned) = trust {
                throw ClientError(.untrusted, "the recorder at \(address) did not present the certificate pinned (\(pinned)): not trusted, nothing sent")
            }
            throw ClientError(.untrusted, "TLS with the recorder at \(address) failed (its certificate is not trusted?): \(error)")
        } catch {
            throw ClientError(.protocolError, "the recorder at \(address): \(error)")
        }
    }

    /// One TLS context a trust for the whole process, made at its first use: a context reads
    /// the system's certificate authorities (a file of some hundred certificates), which is
    /// no work for each request, nor for the event loop that sets a connection up.
    private static let contexts = Mutex<[ServerTrust?: NIOSSLContext]>([:])

    static func context(for trust: ServerTrust?) throws -> NIOSSLContext {
        try contexts.withLock { contexts in
            if let made = contexts[trust] { return made }
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv13
            switch trust {
            case .fingerprint:
                break  // checked by the handler's own verification, which replaces the default one
            case .certificateAuthority(let file):
                configuration.trustRoots = .file(file)
                configuration.certificateVerification = .fullVerification
            case nil:
                configuration.certificateVerification = .fullVerification
            }
            let made = try NIOSSLContext(configuration: configuration)
            contexts[trust] = made
            return made
        }
    }

    static func tlsHandler(host: String, trust: ServerTrust?) throws -> NIOSSLClientHandler {
        let context = try context(for: trust)
        let serverName = host.first?.isNumber == true || host.contains(":") ? nil : host
        guard case .fingerprint(let pinned) = trust else {
            return try NIOSSLClientHandler(context: context, serverHostname: serverName)
        }
        return try NIOSSLClientHandler(context: context, serverHostname: serverName) { certificates, promise in
            // The pinned certificate is the whole trust: nothing else is checked, nothing else passes.
            guard let leaf = certificates.first, let der = try? leaf.toDERBytes(),
                "SHA256:" + SHA256.hash(data: der).map({ String(format: "%02x", $0) }).joined() == pinned.lowercased().replacingOccurrences(of: "sha256:", with: "SHA256:")
            else {
                promise.succeed(.failed)
                return
            }
            promise.succeed(.certificateVerified)
        }
    }
}

/// Gathers one response (head, body up to 64 MiB) and completes the promise.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let promise: EventLoopPromise<RecorderClient.Response>
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var done = false

    init(promise: EventLoopPromise<RecorderClient.Response>) { self.promise = promise }

    private func finish(_ result: Result<RecorderClient.Response, any Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response): head = response
        case .body(var buffer):
            if body.count + buffer.readableBytes > 64 << 20 {
                finish(.failure(ClientError(.protocolError, "the recorder's answer is larger than 64 MiB")))
                context.close(promise: nil)
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes
            }
        case .end:
            guard let head else { return }
            finish(.success(RecorderClient.Response(status: Int(head.status.code), body: body, headers: head.headers.map { ($0.name, $0.value) })))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ClientError(.unreachable, "the recorder closed the connection before answering")))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }
}
