public import Foundation

/// One exchange with the recorder: a request and its whole answer. Two transports carry it:
/// the network client (Unix socket or TLS) and the in-process one (the embedded recorder of
/// a site with no server: the same checks, the same audit), so what uses `RecorderService`
/// cannot tell them apart.
public protocol RecorderTransport: Sendable {
    func exchange(_ method: String, _ path: String, body: [UInt8]?) throws(ServiceError) -> ServiceResponse
    /// Where the answers come from, for messages ("the recorder at HOST:PORT", "this machine's recordings").
    var origin: String { get }
}

public struct ServiceResponse: Sendable {
    public let status: Int
    public let body: [UInt8]
    public let headers: [(String, String)]
    public init(status: Int, body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.body = body
        self.headers = headers
    }
}

/// What went wrong talking to the recorder: unreachable, refused (with the recorder's own
/// words: 401, 403, 429), or a request it could not do.
public struct ServiceError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Hashable { case unreachable, untrusted, unauthenticated, refused, throttled, notFound, invalid, unavailable, protocolError }
    public let kind: Kind
    public let description: String
    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    static func from(_ response: ServiceResponse) -> ServiceError {
        let message = (try? API.decode(ErrorMessage.self, from: response.body).error) ?? "HTTP \(response.status)"
        let kind: Kind =
            switch response.status {
            case 401: .unauthenticated
            case 403: .refused
            case 429: .throttled
            case 404: .notFound
            case 400, 405, 409, 413: .invalid
            case 503: .unavailable
            default: .protocolError
            }
        return ServiceError(kind, message)
    }
}

/// Everything a console or a command asks of the recorder, typed, over either transport.
public struct RecorderService: Sendable {
    public let transport: any RecorderTransport
    public init(_ transport: any RecorderTransport) { self.transport = transport }

    func call<T: Decodable>(_ method: String, _ path: String, body: [UInt8]? = nil, as type: T.Type) throws(ServiceError) -> T {
        let response = try transport.exchange(method, path, body: body)
        guard (200..<300).contains(response.status) else { throw ServiceError.from(response) }
        do {
            return try API.decode(type, from: response.body)
        } catch {
            throw ServiceError(.protocolError, "\(transport.origin) answered \(method) \(path) with what the protocol does not say: \(error)")
        }
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    public func session() throws(ServiceError) -> SessionInfo { try call("GET", "/v1/session", as: SessionInfo.self) }
    public func login(account: String, password: String) throws(ServiceError) -> LoginResponse {
        try call("POST", "/v1/login", body: API.encode(LoginRequest(account: account, password: password)), as: LoginResponse.self)
    }
    public func logout() throws(ServiceError) {
        let response = try transport.exchange("POST", "/v1/logout", body: nil)
        guard (200..<300).contains(response.status) else { throw ServiceError.from(response) }
    }
    public func cameras() throws(ServiceError) -> [CameraInfo] { try call("GET", "/v1/cameras", as: [CameraInfo].self) }
    /// The recorder's status document (RecorderStatusReport's JSON).
    public func status() throws(ServiceError) -> [UInt8] {
        let response = try transport.exchange("GET", "/v1/status", body: nil)
        guard (200..<300).contains(response.status) else { throw ServiceError.from(response) }
        return response.body
    }
    public func holds(includeReleased: Bool) throws(ServiceError) -> [HoldInfo] {
        try call("GET", "/v1/holds\(includeReleased ? "?all=true" : "")", as: [HoldInfo].self)
    }
    public func addHold(_ request: HoldRequest) throws(ServiceError) -> HoldInfo {
        try call("POST", "/v1/holds", body: API.encode(request), as: HoldInfo.self)
    }
    public func releaseHold(id: Int64, reason: String) throws(ServiceError) -> HoldInfo {
        try call("POST", "/v1/holds/\(id)/release", body: API.encode(ReleaseRequest(reason: reason)), as: HoldInfo.self)
    }
    public func audit(camera: String?, since: Date?, who: String?) throws(ServiceError) -> [AuditEntryInfo] {
        var query: [String] = []
        if let camera { query.append("camera=\(RecorderService.escape(camera))") }
        if let since { query.append("since=\(RecorderService.escape(since.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))))") }
        if let who { query.append("who=\(RecorderService.escape(who))") }
        return try call("GET", "/v1/audit" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")), as: [AuditEntryInfo].self)
    }
    public func timeline(camera: String, from: Date, to: Date) throws(ServiceError) -> TimelineInfo {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        return try call(
            "GET", "/v1/recordings/\(RecorderService.escape(camera))?from=\(RecorderService.escape(from.formatted(style)))&to=\(RecorderService.escape(to.formatted(style)))",
            as: TimelineInfo.self)
    }
    /// Writes a console's own event (isolation, page...) to the audit log, under the session's account.
    public func recordEvent(action: String, camera: String?, detail: String?) throws(ServiceError) {
        struct Event: Encodable { var action: String; var camera: String?; var detail: String? }
        let response = try transport.exchange("POST", "/v1/events", body: API.encode(Event(action: action, camera: camera, detail: detail)))
        guard (200..<300).contains(response.status) else { throw ServiceError.from(response) }
    }
    public func accounts() throws(ServiceError) -> [SessionInfo] { try call("GET", "/v1/accounts", as: [SessionInfo].self) }
    /// Ends an account's sessions (one with `session`); returns how many.
    public func revokeSessions(account: String, session: Int64? = nil) throws(ServiceError) -> Int {
        struct Revoke: Encodable { var account: String; var session: Int64? }
        return try call("POST", "/v1/sessions/revoke", body: API.encode(Revoke(account: account, session: session)), as: [String: Int].self)["revoked"] ?? 0
    }
}
