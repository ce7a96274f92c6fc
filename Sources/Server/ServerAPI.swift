import Crypto
import Foundation
import Logging
import Media
import Metrics
public import RecorderAPI
public import RecorderCore
import Synchronization

/// Where a request came from: the recorder's Unix socket (the peer's Unix user, from the
/// kernel) or the network (its address; TLS only).
public enum Peer: Sendable, Hashable, CustomStringConvertible {
    case local(unixUser: String)
    case remote(address: String)

    public var description: String {
        switch self {
        case .local(let user): "unix:\(user)"
        case .remote(let address): address
        }
    }
}

/// One HTTP request as the API sees it (the transport has already bounded its size and time).
public struct APIRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var authorization: String?
    public var body: [UInt8]
    public var peer: Peer

    public init(method: String, target: String, authorization: String?, body: [UInt8], peer: Peer) {
        self.method = method
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts.first ?? "")
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(kv[0]).removingPercentEncoding ?? String(kv[0])
                let value = kv.count == 2 ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(kv[1])) : ""
                query[key] = value
            }
        }
        self.query = query
        self.authorization = authorization
        self.body = body
        self.peer = peer
    }
}

public struct APIReply: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    public var headers: [(String, String)]

    public init(status: Int, contentType: String = "application/json", body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    static func json<T: Encodable>(_ value: T, status: Int = 200) -> APIReply { APIReply(status: status, body: API.encode(value)) }
    static func error(_ status: Int, _ message: String, headers: [(String, String)] = []) -> APIReply {
        APIReply(status: status, body: API.encode(ErrorMessage(message)), headers: headers)
    }
}

/// The in-process transport: a command or console on the machine with no recorder running
/// asks the same API directly, as the local Unix user (same checks, same audit entries).
public struct InProcessTransport: RecorderTransport {
    public let api: ServerAPI
    public let unixUser: String
    public init(api: ServerAPI, unixUser: String) {
        self.api = api
        self.unixUser = unixUser
    }
    public var origin: String { "the recordings in \(api.store.root.path)" }
    public func exchange(_ method: String, _ path: String, body: [UInt8]?) throws(ServiceError) -> ServiceResponse {
        let reply = api.handle(APIRequest(method: method, target: path, authorization: nil, body: body ?? [], peer: .local(unixUser: unixUser)))
        return ServiceResponse(status: reply.status, body: reply.body, headers: reply.headers)
    }
}

/// The recorder's answers to its consoles and commands: every request is tied to an
/// account (a session token, or the Unix user on the local socket), checked against the
/// account's role and cameras, and what it does is written to the audit log under that
/// account's name by the server itself. Runs on the server's worker threads (the catalog
/// blocks), never on its event loop.
public final class ServerAPI: Sendable {
    let store: RecordingStore
    let inventory: CameraInventory
    let metrics: @Sendable () -> String
    /// The live feeds, when this API is the running recorder's (live pictures are relayed).
    let core: RecorderCore?
    private let throttle = Mutex(LoginThrottle())
    /// Exports made or being made since the recorder started, by id.
    let exports = Mutex<[String: ExportStatus]>([:])
    let exportOwners = Mutex<[String: String]>([:])
    /// Requisitions' analyses run since the recorder started, by requisition number.
    let analyses = Mutex<[String: AnalysisStatus]>([:])
    /// The share of each requisition's footage analysed, as searches report it: counted
    /// off the request's thread (it reads every segment of the requisition's scopes), for
    /// the scopes it was counted for, when, and whether a count is under way.
    let analysedShares = Mutex<[String: (scopes: [RequisitionScope], at: Double, share: Double?, counting: Bool)]>([:])
    /// The Unix user the recorder runs as.
    static let recorderUnixUser: String = {
        guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return "uid\(getuid())" }
        return String(cString: name)
    }()
    let stopping = Atomic<Bool>(false)
    /// The accounts and sessions that live grants were last checked against (`stillAllowed`).
    let grantFacts = Mutex<GrantFacts?>(nil)
    private let logger = Logger(label: "vigie.server")
    /// How long a login lasts.
    public static let sessionLifetime: Double = 12 * 3600

    public init(store: RecordingStore, inventory: CameraInventory, core: RecorderCore? = nil, metrics: @escaping @Sendable () -> String) {
        self.store = store
        self.inventory = inventory
        self.core = core
        self.metrics = metrics
    }

    /// A stream a request may watch (live, or recordings from a time): who, which stream,
    /// and the session to check again.
    struct LiveGrant: Sendable {
        enum Kind: Sendable {
            case live(StreamChoice)
            case playback(at: Date, consultation: Consultation)
        }
        let camera: String
        let kind: Kind
        let actor: Actor
        let session: LoginSession?
        let peer: Peer

        var permission: Permission {
            if case .live = kind { return .live }
            return .playback
        }
    }

    /// The stream of GET /v1/live/{camera}/{main|sub} or /v1/playback/{camera}?at=MICROS,
    /// when the request's account may watch it; nil otherwise (the plain HTTP answer then
    /// says why, and audits it).
    func streamGrant(_ request: APIRequest) -> LiveGrant? {
        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.count >= 3, parts[0] == "v1", let camera = inventory.camera(parts[2]),
            case .success(let identity)? = try? identify(request)
        else { return nil }
        let kind: LiveGrant.Kind
        if parts.count == 4, parts[1] == "live", core != nil, let stream = StreamChoice(rawValue: parts[3]) {
            kind = .live(stream)
        } else if parts.count == 3, parts[1] == "playback", let at = ServerAPI.playbackStart(request), ServerAPI.playbackReason(request) != nil,
            playbacksOpen(by: ServerAPI.asker(session: identity.session, peer: request.peer)) < ServerAPI.playbacksPerAsker,
            case .success(let consultation)? = try? consultation(identity.actor, camera: camera.id, at: at, request, audited: false)
        {
            kind = .playback(at: at, consultation: consultation)
        } else {
            return nil
        }
        let grant = LiveGrant(camera: camera.id, kind: kind, actor: identity.actor, session: identity.session, peer: request.peer)
        guard refusal(identity.actor, grant.permission, camera: camera.id) == nil else { return nil }
        return grant
    }

    /// The playbacks being sent, each with who asked (a session, or a local Unix user): at
    /// most `playbacksPerAsker` at once each (each has a thread and an open file), and all
    /// stopped when the server stops.
    let playbacks = Mutex<[ObjectIdentifier: (asker: String, streamer: PlaybackStreamer)]>([:])
    /// Enough for a synchronised wall of 4 (ConsoleState.synchronizedLimit) while its seeks replace their streams.
    static let playbacksPerAsker = 8

    static func asker(session: LoginSession?, peer: Peer) -> String { session.map { "session \($0.id)" } ?? "\(peer)" }

    func playbacksOpen(by asker: String) -> Int { playbacks.withLock { $0.values.filter { $0.asker == asker }.count } }

    func register(_ streamer: PlaybackStreamer, asker: String) { playbacks.withLock { $0[ObjectIdentifier(streamer)] = (asker, streamer) } }
    func unregister(_ streamer: PlaybackStreamer) { _ = playbacks.withLock { $0.removeValue(forKey: ObjectIdentifier(streamer)) } }

    /// Stops every playback and export (the server stops): connections closed, threads given 2 s.
    func stopPlaybacks() {
        stopping.store(true, ordering: .relaxed)
        for (_, entry) in playbacks.withLock({ $0 }) { entry.streamer.cancel() }
        let deadline = Date().addingTimeInterval(2)
        while (!playbacks.withLock({ $0.isEmpty }) || exports.withLock({ $0.values.contains { $0.state == "running" } })) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// Under what recordings are consulted: a requisition (and the end of its period), or
    /// outside any with the typed reason, if the site allows it.
    struct Consultation: Sendable {
        let reason: String?
        let requisition: String?
        let until: Date?
    }

    /// Whether `actor` may consult `camera`'s recordings from `at` (the request's `requisition`
    /// and `reason`), by the site's rule; a refusal is a 403, audited when `audited`.
    func consultation(_ actor: Actor, camera: String, at: Date, _ request: APIRequest, audited: Bool = true) throws -> Result<Consultation, Refusal> {
        let reason = request.query["reason"].flatMap { $0.isEmpty ? nil : $0 }
        let asked = request.query["requisition"].flatMap { $0.isEmpty ? nil : $0 }
        if let asked, let problem = Requisition.problem(number: asked) { return .failure(Refusal(reply: .error(400, problem))) }
        switch ConsultationRule.decide(camera: camera, at: at, asked: asked, reason: reason, requisitions: try store.catalog.requisitions(), site: inventory.site) {
        case .requisition(let number, let until):
            return .success(Consultation(reason: reason, requisition: number, until: until))
        case .outsideRequisition(let reason):
            return .success(Consultation(reason: reason, requisition: nil, until: nil))
        case .refused(let why):
            if audited {
                audit(
                    OperatorEvent(
                        who: actor.name, action: .accessRefused, cameraID: camera, detail: "\(Permission.playback.rawValue): \(why) (from \(request.peer))",
                        from: at, reason: reason, requisition: asked))
            }
            return .failure(Refusal(reply: .error(403, why)))
        }
    }

    /// `at` of a playback request: microseconds since 1970.
    static func playbackStart(_ request: APIRequest) -> Date? {
        guard let text = request.query["at"], let micros = Int64(text), micros > 0 else { return nil }
        return Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    /// `reason` of a playback request, when it is printable and short (absent: "").
    static func playbackReason(_ request: APIRequest) -> String? {
        let reason = request.query["reason"] ?? ""
        return reason.count <= 500 && TerminalText.firstProblem(in: reason) == nil ? reason : nil
    }

    /// Whether a grant still holds (a revoked or expired session, a disabled account, a role
    /// or cameras changed end it). Read from the catalog at most once a second
    /// (`GrantFacts.lifetime`) for all the streams being watched: a console of 16 tiles has
    /// 16 grants checked every 2 s, one query each was a share of the relay's cost.
    func stillAllowed(_ grant: LiveGrant) -> Bool {
        let now = MonotonicClock.seconds()
        let facts: GrantFacts
        if let recent = grantFacts.withLock({ $0 }), now - recent.at < GrantFacts.lifetime {
            facts = recent
        } else {
            guard let accounts = try? store.catalog.accounts() else { return true }  // a busy catalog: keep the picture
            facts = GrantFacts(at: now, accounts: accounts)
            grantFacts.withLock { $0 = facts }
        }
        let accounts = facts.accounts
        let actor: Actor
        if let session = grant.session {
            guard let current = facts.session(session.tokenSHA256, catalog: store.catalog, into: grantFacts), current.isValid(at: Date()),
                let account = accounts.first(where: { $0.name == session.account })
            else { return false }
            actor = .account(account)
        } else if case .local(let user) = grant.peer, case .success(let local) = AccessPolicy.localActor(unixUser: user, accounts: accounts) {
            actor = local
        } else {
            return false
        }
        return refusal(actor, grant.permission, camera: grant.camera) == nil
    }

    public func handle(_ request: APIRequest) -> APIReply {
        do {
            return try route(request)
        } catch let error as CatalogError {
            logger.error("\(request.method) \(request.path): \(error)")
            return .error(503, "the recorder's catalog cannot answer: \(error.kind)")
        } catch {
            return .error(400, "\(error)")
        }
    }

    private func route(_ request: APIRequest) throws -> APIReply {
        let parts = request.path.split(separator: "/").map(String.init)
        if request.path == "/v1/login" {
            return request.method == "POST" ? try login(request) : .error(405, "use POST")
        }
        if request.path == "/metrics" || request.path.hasPrefix("/v1/") {
            let identity: (actor: Actor, session: LoginSession?)
            switch try identify(request) {
            case .success(let found): identity = found
            case .failure(let reply): return reply.reply
            }
            let actor = identity.actor
            switch (request.method, parts) {
            case ("GET", ["metrics"]):
                if let refused = try refuse(actor, .status, request) { return refused }
                return APIReply(status: 200, contentType: "text/plain; version=0.0.4", body: Array(metrics().utf8))
            case ("GET", ["v1", "session"]):
                return .json(info(actor, identity.session))
            case ("POST", ["v1", "logout"]):
                if let session = identity.session {
                    try store.catalog.revokeSessions(account: session.account, id: session.id, by: actor.name, at: Date())
                    audit(OperatorEvent(who: actor.name, action: .logout, detail: "session \(session.id) from \(request.peer)"))
                }
                return APIReply(status: 204, body: [])
            case ("GET", ["v1", "cameras"]):
                return .json(cameras(for: actor))
            case ("GET", ["v1", "status"]):
                if let refused = try refuse(actor, .status, request) { return refused }
                guard let report = RecorderStatusReport.read(from: store.statusPath) else {
                    return .error(503, "the recorder has written no status yet")
                }
                return .json(report)
            case ("GET", ["v1", "holds"]):
                if let refused = try refuse(actor, .readHolds, request) { return refused }
                return .json(try store.catalog.holds(includeReleased: request.query["all"] == "true").map(ServerAPI.info))
            case ("POST", ["v1", "holds"]):
                return try addHold(request, actor)
            case ("POST", let path) where path.count == 4 && path[1] == "holds" && path[3] == "release":
                return try releaseHold(request, actor, id: Int64(path[2]))
            case ("GET", ["v1", "audit"]):
                if let refused = try refuse(actor, .audit, request) { return refused }
                return try audit(request)
            case ("GET", let path) where path.count == 3 && path[1] == "recordings":
                return try timeline(request, actor, camera: path[2])
            case ("GET", let path) where path.count == 4 && path[1] == "live":
                guard let camera = inventory.camera(path[2]), StreamChoice(rawValue: path[3]) != nil else {
                    return .error(404, "no live stream \(path[2])/\(path[3]) (streams: main, sub)")
                }
                if let refused = try refuse(actor, .live, request, camera: camera.id) { return refused }
                return core == nil
                    ? .error(503, "no recorder runs here: live pictures come from `vigie record`")
                    : .error(426, "live pictures come over a WebSocket: send `Connection: Upgrade` and `Upgrade: websocket`", headers: [("Upgrade", "websocket")])
            case ("GET", let path) where path.count == 3 && path[1] == "playback":
                guard let camera = inventory.camera(path[2]) else { return .error(404, "no camera `\(path[2])`") }
                if let refused = try refuse(actor, .playback, request, camera: camera.id) { return refused }
                guard ServerAPI.playbackStart(request) != nil else { return .error(400, "`at` is the time to play from, in microseconds since 1970") }
                guard ServerAPI.playbackReason(request) != nil else { return .error(400, "`reason` must be printable and at most 500 characters") }
                if case .failure(let refusal) = try consultation(actor, camera: camera.id, at: ServerAPI.playbackStart(request)!, request) { return refusal.reply }
                if playbacksOpen(by: ServerAPI.asker(session: identity.session, peer: request.peer)) >= ServerAPI.playbacksPerAsker {
                    return .error(429, "at most \(ServerAPI.playbacksPerAsker) playbacks at once for a session: close one first")
                }
                return .error(426, "recordings are played over a WebSocket: send `Connection: Upgrade` and `Upgrade: websocket`", headers: [("Upgrade", "websocket")])
            case ("POST", ["v1", "events"]):
                return try consoleEvent(request, actor)
            case ("GET", ["v1", "accounts"]):
                if let refused = try refuse(actor, .readAccounts, request) { return refused }
                return .json(try store.catalog.accounts().map { info(.account($0), nil) })
            case ("POST", ["v1", "sessions", "revoke"]):
                return try revoke(request, actor)
            case (_, let path) where path.count >= 4 && path[1] == "requisitions" && path[3] == "analysis":
                return try analysisRoute(request, actor, number: path[2].removingPercentEncoding ?? path[2], stop: path.count == 5 && path[4] == "stop")
            case (_, let path) where path.count >= 2 && path[1] == "requisitions":
                return try requisitionRoute(request, actor, path)
            case ("POST", ["v1", "search"]):
                return try search(request, actor)
            case ("GET", let path) where path.count == 4 && path[1] == "passages" && path[3] == "thumbnail":
                return try thumbnail(request, actor, id: path[2])
            case ("POST", ["v1", "exports"]):
                return try startExport(request, actor)
            case ("GET", let path) where path.count == 3 && path[1] == "exports":
                return try exportStatus(request, actor, id: path[2])
            case ("GET", let path) where path.count == 4 && path[1] == "exports" && path[3] == "files":
                return try exportFiles(request, actor, id: path[2])
            case ("GET", let path) where path.count == 5 && path[1] == "exports" && path[3] == "files":
                return try exportFile(request, actor, id: path[2], name: path[4].removingPercentEncoding ?? path[4])
            case ("GET", ["v1", "register"]):
                return try register(request, actor)
            case ("GET", ["v1", "compliance"]):
                return try compliance(request, actor)
            case ("GET", ["v1", "transmissions"]):
                if let refused = try refuse(actor, .registers, request) { return refused }
                return .json(try store.catalog.transmissions(requisition: nil).map(ServerAPI.info))
            default:
                let known: [[String]] = [["metrics"], ["v1", "session"], ["v1", "events"], ["v1", "logout"], ["v1", "cameras"], ["v1", "status"], ["v1", "holds"], ["v1", "audit"], ["v1", "accounts"], ["v1", "sessions", "revoke"], ["v1", "exports"], ["v1", "transmissions"], ["v1", "register"], ["v1", "compliance"], ["v1", "search"]]
                let pattern = known.contains(parts) || (parts.count == 4 && parts[1] == "holds" && parts[3] == "release") || (parts.count == 3 && (parts[1] == "recordings" || parts[1] == "playback" || parts[1] == "exports"))
                return pattern
                    ? .error(405, "\(request.method) is not a method of \(request.path) (see docs/protocol.yaml)")
                    : .error(404, "no such resource: \(request.method) \(request.path) (see docs/protocol.yaml)")
            }
        }
        return .error(404, "no such resource: \(request.path)")
    }

    /// Writes an audit entry: through the store, or, when the command only reads (a read-only
    /// handle), through a writable one if the storage allows it (read-only media: only said).
    func audit(_ event: OperatorEvent) {
        if store.access == .readWrite {
            store.audit.record(event)
        } else if let writable = try? RecordingStore(root: store.root, access: .readWrite) {
            writable.audit.record(event)
        } else {
            logger.warning("not audited (read-only storage): \(event.action) by \(event.who)")
        }
    }

    // MARK: Identity

    struct Refusal: Error { let reply: APIReply }

    /// The account behind a request: its session token, else (on the local socket only)
    /// its Unix user, mapped to an account or single-user mode.
    func identify(_ request: APIRequest) throws -> Result<(actor: Actor, session: LoginSession?), Refusal> {
        let accounts = try store.catalog.accounts()
        if let authorization = request.authorization {
            guard authorization.hasPrefix("Bearer "), case let token = String(authorization.dropFirst(7)), token.count == 43 else {
                return .failure(Refusal(reply: .error(401, "the Authorization header is not `Bearer TOKEN`", headers: [("WWW-Authenticate", "Bearer")])))
            }
            guard let session = try store.catalog.session(tokenSHA256: ServerAPI.digest(token)), session.isValid(at: Date()) else {
                return .failure(Refusal(reply: .error(401, "the session has ended or was revoked: log in again", headers: [("WWW-Authenticate", "Bearer")])))
            }
            guard let account = accounts.first(where: { $0.name == session.account }) else {
                return .failure(Refusal(reply: .error(401, "the session's account no longer exists")))
            }
            if let unusable = account.unusable(at: Date()) { return .failure(Refusal(reply: .error(401, unusable))) }
            return .success((.account(account), session))
        }
        guard case .local(let user) = request.peer else {
            return .failure(Refusal(reply: .error(401, "log in first (POST /v1/login)", headers: [("WWW-Authenticate", "Bearer")])))
        }
        switch AccessPolicy.localActor(unixUser: user, accounts: accounts) {
        case .success(let actor): return .success((actor, nil))
        case .failure(let error):
            audit(OperatorEvent(who: "unix:\(user)", action: .accessRefused, detail: "connect to the recorder: \(error)"))
            return .failure(Refusal(reply: .error(403, error.description)))
        }
    }

    /// Logins for /metrics: vigie_logins_total{result="ok|failed|throttled|refused"}.
    static func count(login result: String) { Counter(label: "vigie_logins_total", dimensions: [("result", result)]).increment() }

    /// Why `actor` may not, else nil: the account's role and cameras, and the site's mode
    /// (in vidéoprotection, nobody watches live).
    func refusal(_ actor: Actor, _ permission: Permission, camera: String? = nil) -> String? {
        if permission == .live && inventory.site.mode == .videoprotection {
            return "this site is in vidéoprotection mode: no live view, for any account; recordings only through a requisition"
        }
        return AccessPolicy.refusal(actor, permission, camera: camera)
    }

    /// A 403 (audited) when `actor` may not, else nil.
    func refuse(_ actor: Actor, _ permission: Permission, _ request: APIRequest, camera: String? = nil) throws -> APIReply? {
        guard let why = refusal(actor, permission, camera: camera) else { return nil }
        audit(
            OperatorEvent(who: actor.name, action: .accessRefused, cameraID: camera, detail: "\(permission.rawValue): \(why) (from \(request.peer))"))
        return .error(403, why)
    }

    static func time(_ text: String) -> Date? {
        (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(text, strategy: .iso8601))
    }

    static func digest(_ token: String) -> String { SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined() }

    func info(_ actor: Actor, _ session: LoginSession?) -> SessionInfo {
        switch actor {
        case .singleUser(let user):
            SessionInfo(
                account: user, role: "single-user", cameras: ["*"], singleUser: true, expires: nil, site: inventory.site.name,
                timeZone: inventory.site.timeZone.identifier, mode: inventory.site.mode.rawValue)
        case .account(let account):
            SessionInfo(
                account: account.name, role: account.role.rawValue, cameras: account.cameras, singleUser: false, expires: session?.expires,
                site: inventory.site.name, timeZone: inventory.site.timeZone.identifier, mode: inventory.site.mode.rawValue)
        }
    }

    // MARK: Login

    private func login(_ request: APIRequest) throws -> APIReply {
        guard request.body.count <= 4096, let body = try? API.decode(LoginRequest.self, from: request.body) else {
            return .error(400, "a login is {\"account\": NAME, \"password\": PASSWORD}")
        }
        let now = Date()
        let name = Account.validName(body.account) == nil ? body.account : "(not an account name)"
        let keys = ["account:\(name)", "address:\(ServerAPI.host(of: request.peer))"]
        let wait = throttle.withLock { throttle in keys.map { throttle.wait(for: $0, at: now) }.max() ?? 0 }
        if wait > 0 {
            audit(OperatorEvent(who: name, action: .loginFailed, detail: "throttled: login tried again too soon from \(request.peer)"))
            ServerAPI.count(login: "throttled")
            return .error(429, "too many failed logins: try again in \(Int(wait.rounded(.up))) s", headers: [("Retry-After", "\(Int(wait.rounded(.up)))")])
        }
        let account = try store.catalog.accounts().first { $0.name == body.account }
        // A missing account costs the same hashing time as a wrong password (nothing to learn from timing).
        let matches = PasswordHash.matches(body.password, account?.passwordHash ?? ServerAPI.decoyHash)
        guard var account, matches else {
            throttle.withLock { throttle in keys.forEach { throttle.failed($0, at: now) } }
            audit(OperatorEvent(who: name, action: .loginFailed, detail: "wrong account or password from \(request.peer)"))
            ServerAPI.count(login: "failed")
            return .error(401, "wrong account or password")
        }
        if let unusable = account.unusable(at: now) {
            audit(OperatorEvent(who: name, action: .loginFailed, detail: "\(unusable) (from \(request.peer))"))
            ServerAPI.count(login: "refused")
            return .error(403, unusable)
        }
        throttle.withLock { throttle in keys.forEach { throttle.succeeded($0) } }
        var random = SystemRandomNumberGenerator()
        let token = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        var session = LoginSession(
            tokenSHA256: ServerAPI.digest(token), account: account.name, address: request.peer.description, created: now,
            expires: now.addingTimeInterval(ServerAPI.sessionLifetime))
        session.id = try store.catalog.addSession(session)
        account.lastLogin = now
        try store.catalog.updateAccount(account)
        audit(OperatorEvent(who: account.name, action: .login, detail: "session \(session.id) from \(request.peer)"))
        ServerAPI.count(login: "ok")
        return .json(LoginResponse(token: token, session: info(.account(account), session)))
    }

    /// A hash no password matches, checked when the account does not exist.
    static let decoyHash = (try? PasswordHash.make(UUID().uuidString)) ?? ""

    static func host(of peer: Peer) -> String {
        switch peer {
        case .local(let user): "unix:\(user)"
        case .remote(let address):
            // "[::1]:5000" or "127.0.0.1:5000": the host without the port.
            address.hasPrefix("[") ? String(address.prefix { $0 != "]" }.dropFirst()) : String(address.prefix { $0 != ":" })
        }
    }

    private func revoke(_ request: APIRequest, _ actor: Actor) throws -> APIReply {
        struct Revoke: Decodable { var account: String; var session: Int64? }
        guard let body = try? API.decode(Revoke.self, from: request.body) else { return .error(400, "a revocation is {\"account\": NAME, \"session\": ID?}") }
        if actor.account?.name != body.account, let refused = try refuse(actor, .accounts, request) { return refused }
        let count = try store.catalog.revokeSessions(account: body.account, id: body.session, by: actor.name, at: Date())
        audit(
            OperatorEvent(who: actor.name, action: .sessionRevoked, detail: "\(count) session(s) of account \(body.account) revoked\(body.session.map { " (session \($0))" } ?? "")"))
        return .json(["revoked": count])
    }

    /// What a console may write to the audit log about itself (the server adds who and when).
    static let consoleActions: Set<OperatorEvent.Action> = [
        .consoleStarted, .consoleStopped, .isolated, .returnedToWall, .pageChanged, .rotationPaused, .rotationResumed, .layoutReloaded,
        .layoutRejected, .accessRefused,
    ]

    private func consoleEvent(_ request: APIRequest, _ actor: Actor) throws -> APIReply {
        struct Event: Decodable { var action: String; var camera: String?; var detail: String? }
        guard let body = try? API.decode(Event.self, from: request.body) else { return .error(400, "an event is {\"action\", \"camera\"?, \"detail\"?}") }
        let action = OperatorEvent.Action(body.action)
        guard ServerAPI.consoleActions.contains(action) else {
            return .error(400, "`\(body.action)` is not an event a console reports (\(ServerAPI.consoleActions.map(\.name).sorted().joined(separator: ", ")))")
        }
        if let detail = body.detail, detail.count > 1000 || TerminalText.firstProblem(in: detail) != nil {
            return .error(400, "`detail` must be printable and at most 1000 characters")
        }
        var camera: String? = nil
        if let given = body.camera {
            guard let found = inventory.camera(given) else { return .error(404, "no camera `\(given)`") }
            camera = found.id
            // A console reports on the cameras it shows: live ones, or (vidéoprotection) recordings only.
            let shows: Permission = inventory.site.mode == .videoprotection ? .playback : .live
            if action != .accessRefused, let refused = try refuse(actor, shows, request, camera: found.id) { return refused }
        }
        audit(OperatorEvent(who: actor.name, action: action, cameraID: camera, detail: body.detail.map { "\($0) (console at \(request.peer))" } ?? "console at \(request.peer)"))
        return APIReply(status: 204, body: [])
    }

    // MARK: Cameras, holds, audit, timeline

    /// Every camera of the site, names and places only (never an address), each saying
    /// whether the account may watch it: layouts name them all, a console shows its own.
    func cameras(for actor: Actor) -> [CameraInfo] {
        inventory.cameras.map {
            CameraInfo(
                id: $0.id, number: $0.number, name: $0.name, location: $0.location, neighbours: $0.neighbours, hasSubStream: $0.subURL != nil,
                retentionDays: inventory.retentionDays(camera: $0.id), live: refusal(actor, .live, camera: $0.id) == nil,
                recordedUntil: refusal(actor, .live, camera: $0.id) == nil || refusal(actor, .playback, camera: $0.id) == nil
                    ? (try? store.catalog.segment(camera: $0.id, before: .distantFuture))?.end : nil)
        }
    }

    static func info(_ hold: Hold) -> HoldInfo {
        HoldInfo(
            id: hold.id, reference: hold.reference, cameras: hold.cameras, from: hold.start, to: hold.end, reason: hold.reason, createdBy: hold.createdBy,
            createdAt: hold.createdAt, releasedBy: hold.releasedBy, releasedAt: hold.releasedAt)
    }

    private func addHold(_ request: APIRequest, _ actor: Actor) throws -> APIReply {
        guard let body = try? API.decode(HoldRequest.self, from: request.body) else {
            return .error(400, "a hold is {\"reference\", \"cameras\": [ids], \"from\", \"to\", \"reason\"} with ISO 8601 times")
        }
        for (field, text) in [("reference", body.reference), ("reason", body.reason)] {
            if let problem = ServerAPI.textProblem(field, text) { return .error(400, problem) }
        }
        guard body.to > body.from else { return .error(400, "`to` must be after `from`") }
        // Cameras by id or number, held by id (what footage rows carry); a camera no longer in the
        // site file but with footage kept can be held too.
        let ids: [String]
        switch try cameraIDs(body.cameras) {
        case .success(let found): ids = found
        case .failure(let refusal): return refusal.reply
        }
        for id in ids.isEmpty ? inventory.cameras.map(\.id) : ids {
            if let refused = try refuse(actor, .holds, request, camera: id) { return refused }
        }
        let hold = try store.catalog.addHold(
            Hold(reference: body.reference, cameras: ids, start: body.from, end: body.to, reason: body.reason, createdBy: actor.name, createdAt: Date()))
        audit(
            OperatorEvent(
                who: actor.name, action: .holdAdded, cameraID: ids.count == 1 ? ids[0] : nil,
                detail: "hold \(hold.id) \(body.reference) cameras \(ids.isEmpty ? "all" : ids.joined(separator: ","))", from: body.from, to: body.to,
                reason: body.reason))
        return .json(ServerAPI.info(hold), status: 201)
    }

    private func releaseHold(_ request: APIRequest, _ actor: Actor, id: Int64?) throws -> APIReply {
        guard let id else { return .error(404, "no such hold") }
        guard let body = try? API.decode(ReleaseRequest.self, from: request.body), !body.reason.trimmingCharacters(in: .whitespaces).isEmpty,
            TerminalText.firstProblem(in: body.reason) == nil, body.reason.count <= 1000
        else { return .error(400, "a release is {\"reason\": TEXT} (printable, at most 1000 characters)") }
        guard let held = try store.catalog.holds(includeReleased: false).first(where: { $0.id == id }) else { return .error(404, "no hold \(id) in force") }
        if let number = held.requisition {
            // A requisition's footage is released with it, on a supervisor's confirmation only.
            audit(
                OperatorEvent(
                    who: actor.name, action: .accessRefused, detail: "release hold \(id): it belongs to requisition \(number) (from \(request.peer))",
                    requisition: number))
            return .error(403, "hold \(id) belongs to requisition \(number): it is released with it, by a supervisor (vigie requisition release)")
        }
        for camera in held.cameras.isEmpty ? inventory.cameras.map(\.id) : held.cameras {
            if let refused = try refuse(actor, .holds, request, camera: camera) { return refused }
        }
        guard let hold = try store.catalog.releaseHold(id: id, by: actor.name, at: Date()) else { return .error(404, "no hold \(id) in force") }
        audit(
            OperatorEvent(who: actor.name, action: .holdReleased, detail: "hold \(hold.id) \(hold.reference)", from: hold.start, to: hold.end, reason: body.reason))
        return .json(ServerAPI.info(hold))
    }

    private func audit(_ request: APIRequest) throws -> APIReply {
        let since = try request.query["since"].map { text in
            guard let date = ServerAPI.time(text) else { throw ServerError("`since` is an ISO 8601 time") }
            return date
        }
        let limit = min(Int(request.query["limit"] ?? "") ?? 10_000, 100_000)
        let entries = try store.catalog.auditEntries(camera: request.query["camera"], since: since, who: request.query["who"]).suffix(limit)
        return .json(
            entries.map {
                AuditEntryInfo(
                    sequence: $0.sequence, when: $0.event.when, who: $0.event.who, action: $0.event.action.name, camera: $0.event.cameraID,
                    from: $0.event.from, to: $0.event.to, reason: $0.event.reason, detail: $0.event.detail, hash: $0.hash, signed: $0.signature != nil,
                    requisition: $0.event.requisition)
            })
    }

    private func timeline(_ request: APIRequest, _ actor: Actor, camera given: String) throws -> APIReply {
        guard let camera = inventory.camera(given) else { return .error(404, "no camera `\(given)`") }
        if let refused = try refuse(actor, .playback, request, camera: camera.id) { return refused }
        func time(_ key: String) throws -> Date? {
            try request.query[key].map { text in
                guard let date = ServerAPI.time(text) else { throw ServerError("`\(key)` is an ISO 8601 time") }
                return date
            }
        }
        let to = try time("to") ?? Date(), from = try time("from") ?? to.addingTimeInterval(-86_400)
        guard to > from, to.timeIntervalSince(from) <= 31 * 86_400 else { return .error(400, "`from` must be before `to`, at most 31 days apart") }
        let segments = try store.catalog.segments(camera: camera.id, from: from, to: to).map { TimelineInfo.Span(from: $0.start, to: $0.end) }
        let gaps = try store.catalog.gaps(camera: camera.id, from: from, to: to).map { TimelineInfo.Span(from: $0.start, to: $0.end, reason: $0.reason) }
        return .json(TimelineInfo(camera: camera.id, segments: segments, gaps: gaps))
    }
}

/// The accounts, and the sessions looked up, as the catalog gave them at `at` (monotonic
/// seconds): what every live grant checked within `lifetime` of it is checked against. A
/// revoked session or a disabled account is seen within `lifetime` plus the grants' 2 s.
struct GrantFacts: Sendable {
    static let lifetime: Double = 1
    let at: Double
    let accounts: [Account]
    /// Sessions by their token's SHA-256, as found (one not found is asked again).
    var sessions: [String: LoginSession] = [:]

    init(at: Double, accounts: [Account]) {
        self.at = at
        self.accounts = accounts
    }

    /// The session of `tokenSHA256`, looked up once for these facts; nil when there is none
    /// or the catalog cannot say (the grant then ends, as before).
    func session(_ tokenSHA256: String, catalog: any Catalog, into shared: borrowing Mutex<GrantFacts?>) -> LoginSession? {
        if let known = shared.withLock({ $0?.at == at ? $0?.sessions[tokenSHA256] : nil }) { return known }
        guard let found = try? catalog.session(tokenSHA256: tokenSHA256) else { return nil }
        shared.withLock { facts in
            if facts?.at == at { facts?.sessions[tokenSHA256] = found }
        }
        return found
    }
}
