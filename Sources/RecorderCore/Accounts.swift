public import Foundation

/// What a named person may do: each role is allowed its own actions only, checked on every
/// request (by the server for remote consoles, by the embedded core locally).
public enum Role: String, Sendable, CaseIterable, Codable {
    /// The live wall and isolating a camera, on the account's cameras.
    case `operator`
    /// Also playback, holds, requisitions and exports (search comes next).
    case technician
    /// Also accounts and layouts.
    case supervisor
    /// The audit log and the registers; no images.
    case auditor
    /// System settings; no images.
    case admin

    public var permissions: Set<Permission> {
        switch self {
        case .operator: [.live, .status]
        case .technician: [.live, .playback, .holds, .readHolds, .requisitions, .readRequisitions, .export, .search, .verify, .status]
        case .supervisor:
            [
                .live, .playback, .holds, .readHolds, .requisitions, .readRequisitions, .releaseRequisition, .export, .search, .registers, .accounts, .readAccounts,
                .layouts, .verify, .status,
            ]
        case .auditor: [.audit, .readHolds, .readRequisitions, .registers, .readAccounts, .verify, .status]
        case .admin: [.settings, .verify, .status]
        }
    }

    public var summary: String {
        switch self {
        case .operator: "live wall and isolation on the account's cameras"
        case .technician: "live, playback, holds, requisitions, exports and search on the account's cameras"
        case .supervisor: "live, playback, holds, requisitions, exports, search, releases, registers, accounts and layouts"
        case .auditor: "the audit log and the registers, no images"
        case .admin: "system settings, no images"
        }
    }
}

/// One kind of action the access rules decide on.
public enum Permission: String, Sendable, CaseIterable {
    case live = "watch live pictures"
    case playback = "play recordings back"
    case holds = "add or release holds"
    case readHolds = "list holds"
    case requisitions = "enter and close requisitions"
    case readRequisitions = "list requisitions"
    /// Confirms the release of a closed requisition's holds.
    case releaseRequisition = "release a requisition's holds"
    case export = "export evidence"
    /// Analyse a requisition's footage and search its index (never live, never faces).
    case search = "analyse and search a requisition's footage"
    case registers = "read the registers and the compliance report"
    case audit = "read the audit log"
    case accounts = "manage accounts"
    case readAccounts = "list accounts"
    case layouts = "change layouts"
    case settings = "change system settings"
    case verify = "check the recordings' integrity"
    case status = "read the recorder's status"

    /// Whether the action concerns pictures of particular cameras (checked against the account's).
    var concernsCameras: Bool { self == .live || self == .playback || self == .holds || self == .export || self == .search }
}

/// A named, habilitated person.
public struct Account: Sendable, Hashable {
    public var name: String
    public var role: Role
    /// Globs of camera ids (`*`, `quai-*`): the cameras whose pictures the account may see.
    public var cameras: [String]
    /// The local Unix user who acts as this account (SO_PEERCRED on the socket, getuid locally).
    public var unixUser: String?
    /// The memory-hard hash of the password (`PasswordHash`), never the password.
    public var passwordHash: String
    public var createdBy: String
    public var createdAt: Date
    /// When the habilitation ends: no login after it.
    public var expires: Date?
    public var disabledBy: String?
    public var disabledAt: Date?
    public var passwordChangedAt: Date
    public var lastLogin: Date?

    public init(
        name: String, role: Role, cameras: [String] = ["*"], unixUser: String? = nil, passwordHash: String, createdBy: String, createdAt: Date,
        expires: Date? = nil
    ) {
        self.name = name
        self.role = role
        self.cameras = cameras
        self.unixUser = unixUser
        self.passwordHash = passwordHash
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.expires = expires
        passwordChangedAt = createdAt
    }

    /// Why the account may not act at `now`, or nil.
    public func unusable(at now: Date) -> String? {
        if let disabledAt, disabledAt <= now { return "account \(name) is disabled" }
        if let expires, expires <= now { return "the habilitation of account \(name) expired on \(expires.formatted(.iso8601.year().month().day()))" }
        return nil
    }

    public func mayView(camera: String) -> Bool { cameras.contains { Glob.matches($0, camera) } }

    /// Account names and Unix user names: a letter, then letters, digits, `.`, `_` or `-`, at most 64.
    public static func validName(_ name: String) -> String? {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 64 else { return "is empty or longer than 64 characters" }
        guard ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return "must start with a letter" }
        let allowed = name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
        return allowed ? nil : "may hold only ASCII letters, digits, `.`, `_` and `-`"
    }
}

/// Who is acting: a named account, or, on a site with no account yet, the local Unix user,
/// who may do everything (the demo, a first install) until the first account is made.
public enum Actor: Sendable, Hashable {
    case singleUser(unixUser: String)
    case account(Account)

    /// The name written in the audit log.
    public var name: String {
        switch self {
        case .singleUser(let user): user
        case .account(let account): account.name
        }
    }

    public var account: Account? {
        if case .account(let account) = self { return account }
        return nil
    }
}

/// The access rules, pure: who may do what, on which camera.
public enum AccessPolicy {
    /// Nil when allowed, else why not (said to the person and written to the audit log).
    public static func refusal(_ actor: Actor, _ permission: Permission, camera: String? = nil, at now: Date = Date()) -> String? {
        guard case .account(let account) = actor else { return nil }
        if let unusable = account.unusable(at: now) { return unusable }
        guard account.role.permissions.contains(permission) else {
            return "account \(account.name) (\(account.role.rawValue)) may not \(permission.rawValue)"
        }
        if permission.concernsCameras, let camera, !account.mayView(camera: camera) {
            return "account \(account.name) may not \(permission.rawValue) on camera \(camera)"
        }
        return nil
    }

    /// Who acts for the local Unix user `unixUser`, given the site's accounts: single-user
    /// mode while there are none; else the account mapped to that user, or an error.
    public static func localActor(unixUser: String, accounts: [Account], at now: Date = Date()) -> Result<Actor, AccessError> {
        if accounts.isEmpty { return .success(.singleUser(unixUser: unixUser)) }
        guard let account = accounts.first(where: { $0.unixUser == unixUser }) else {
            return .failure(AccessError("the Unix user \(unixUser) acts as no account (a supervisor maps it: vigie accounts add NAME --unix-user \(unixUser))"))
        }
        if let unusable = account.unusable(at: now) { return .failure(AccessError(unusable)) }
        return .success(.account(account))
    }
}

/// A login: a token handed to a console, of which the recorder keeps only the hash.
public struct LoginSession: Sendable, Hashable {
    public var id: Int64
    public var tokenSHA256: String
    public var account: String
    /// Where the login came from (the peer address, or `unix:USER`).
    public var address: String
    public var created: Date
    public var expires: Date
    public var revoked: Date?
    public var revokedBy: String?

    public init(
        id: Int64 = 0, tokenSHA256: String, account: String, address: String, created: Date, expires: Date, revoked: Date? = nil, revokedBy: String? = nil
    ) {
        self.id = id
        self.tokenSHA256 = tokenSHA256
        self.account = account
        self.address = address
        self.created = created
        self.expires = expires
        self.revoked = revoked
        self.revokedBy = revokedBy
    }

    public func isValid(at now: Date) -> Bool { revoked == nil && expires > now }
}

/// Failed logins slow the next try down, per account and per address: the first 3 failures
/// cost nothing, then each further try must wait 5 × 2^(n-3) seconds after the last failure
/// (5 s, 10 s, 20 s...), up to 15 minutes; failures older than an hour are forgotten, a
/// success forgets them. Pure: the server keeps one and gives it the time.
public struct LoginThrottle: Sendable {
    struct Record: Sendable {
        var failures: Int
        var last: Date
    }
    private var records: [String: Record] = [:]
    public static let freeFailures = 3
    public static let firstWait: Double = 5
    public static let longestWait: Double = 15 * 60
    public static let forgetAfter: Double = 3600

    public init() {}

    /// How long `key` must still wait before trying again (0: now).
    public func wait(for key: String, at now: Date) -> Double {
        guard let record = records[key], now.timeIntervalSince(record.last) < LoginThrottle.forgetAfter,
            record.failures >= LoginThrottle.freeFailures
        else { return 0 }
        let delay = min(LoginThrottle.longestWait, LoginThrottle.firstWait * pow(2, Double(record.failures - LoginThrottle.freeFailures)))
        return max(0, delay - now.timeIntervalSince(record.last))
    }

    public mutating func failed(_ key: String, at now: Date) {
        var record = records[key] ?? Record(failures: 0, last: now)
        if now.timeIntervalSince(record.last) >= LoginThrottle.forgetAfter { record.failures = 0 }
        record.failures += 1
        record.last = now
        records[key] = record
        if records.count > 100_000 { records = records.filter { now.timeIntervalSince($0.value.last) < LoginThrottle.forgetAfter } }
    }

    public mutating func succeeded(_ key: String) { records[key] = nil }
}

public struct AccessError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
