public import Foundation

/// The messages of Vigie's protocol between the recorder (the site's server) and its
/// consoles and commands: JSON over HTTP/1.1, on the recorder's Unix socket or on TLS 1.3.
/// The document is docs/protocol.yaml (OpenAPI 3.1); these types are what it describes.
/// Times are ISO 8601 UTC with milliseconds.
public enum API {
    public static let version = "v1"

    /// Encodes messages as the document says (sorted keys, ISO 8601 times with milliseconds).
    public static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Sequence<UInt8>) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 time: \(text)"))
        }
        return try decoder.decode(type, from: Data(bytes))
    }
}

/// Every error answer: what went wrong, in words fit for the person (never a secret).
public struct ErrorMessage: Codable, Sendable {
    public var error: String
    public init(_ error: String) { self.error = error }
}

public struct LoginRequest: Codable, Sendable {
    public var account: String
    public var password: String
    public init(account: String, password: String) {
        self.account = account
        self.password = password
    }
}

/// Who the request acts as: GET /v1/session, and the answer to a login.
public struct SessionInfo: Codable, Sendable, Hashable {
    public var account: String
    public var role: String
    public var cameras: [String]
    /// A site with no account yet: the local Unix user may do everything.
    public var singleUser: Bool
    /// When the session's token stops working (nil on the Unix socket: no token).
    public var expires: Date?
    /// The site's name and time zone (local times are shown in it).
    public var site: String?
    public var timeZone: String?
    /// `videosurveillance` or `videoprotection` (no live view).
    public var mode: String?
    public init(
        account: String, role: String, cameras: [String], singleUser: Bool, expires: Date?, site: String? = nil, timeZone: String? = nil, mode: String? = nil
    ) {
        self.account = account
        self.role = role
        self.cameras = cameras
        self.singleUser = singleUser
        self.expires = expires
        self.site = site
        self.timeZone = timeZone
        self.mode = mode
    }
}

public struct LoginResponse: Codable, Sendable {
    /// Sent back as `Authorization: Bearer TOKEN`; the recorder keeps only its hash.
    public var token: String
    public var session: SessionInfo
    public init(token: String, session: SessionInfo) {
        self.token = token
        self.session = session
    }
}

/// A camera as a console sees it: never its address (credentials stay in the recorder).
public struct CameraInfo: Codable, Sendable, Hashable {
    public var id: String
    public var number: Int
    public var name: String
    public var location: String
    public var neighbours: [String]
    public var hasSubStream: Bool
    public var retentionDays: Int
    /// Whether the account may watch its pictures (others are listed, never shown).
    public var live: Bool
    /// The end of its newest footage (the REC mark: being recorded when it is seconds ago).
    public var recordedUntil: Date?
    public init(
        id: String, number: Int, name: String, location: String, neighbours: [String], hasSubStream: Bool, retentionDays: Int, live: Bool,
        recordedUntil: Date? = nil
    ) {
        self.recordedUntil = recordedUntil
        self.id = id
        self.number = number
        self.name = name
        self.location = location
        self.neighbours = neighbours
        self.hasSubStream = hasSubStream
        self.retentionDays = retentionDays
        self.live = live
    }
}

public struct HoldInfo: Codable, Sendable, Hashable {
    public var id: Int64
    public var reference: String
    /// Camera ids; empty: every camera.
    public var cameras: [String]
    public var from: Date
    public var to: Date
    public var reason: String
    public var createdBy: String
    public var createdAt: Date
    public var releasedBy: String?
    public var releasedAt: Date?
    public init(
        id: Int64, reference: String, cameras: [String], from: Date, to: Date, reason: String, createdBy: String, createdAt: Date,
        releasedBy: String?, releasedAt: Date?
    ) {
        self.id = id
        self.reference = reference
        self.cameras = cameras
        self.from = from
        self.to = to
        self.reason = reason
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.releasedBy = releasedBy
        self.releasedAt = releasedAt
    }
}

public struct HoldRequest: Codable, Sendable {
    public var reference: String
    /// Camera ids or numbers; empty: every camera.
    public var cameras: [String]
    public var from: Date
    public var to: Date
    public var reason: String
    public init(reference: String, cameras: [String], from: Date, to: Date, reason: String) {
        self.reference = reference
        self.cameras = cameras
        self.from = from
        self.to = to
        self.reason = reason
    }
}

public struct ReleaseRequest: Codable, Sendable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

public struct AuditEntryInfo: Codable, Sendable, Hashable {
    public var sequence: Int64
    public var when: Date
    public var who: String
    public var action: String
    public var camera: String?
    public var from: Date?
    public var to: Date?
    public var reason: String?
    public var detail: String?
    public var hash: String
    public var signed: Bool
    /// The requisition the action was done under.
    public var requisition: String?
    public init(
        sequence: Int64, when: Date, who: String, action: String, camera: String?, from: Date?, to: Date?, reason: String?, detail: String?,
        hash: String, signed: Bool, requisition: String? = nil
    ) {
        self.sequence = sequence
        self.when = when
        self.who = who
        self.action = action
        self.camera = camera
        self.from = from
        self.to = to
        self.reason = reason
        self.detail = detail
        self.hash = hash
        self.signed = signed
        self.requisition = requisition
    }
}

/// A camera's recorded time between two instants: what the console's timeline draws.
public struct TimelineInfo: Codable, Sendable, Hashable {
    public struct Span: Codable, Sendable, Hashable {
        public var from: Date
        public var to: Date
        /// For a gap: why nothing was recorded.
        public var reason: String?
        public init(from: Date, to: Date, reason: String? = nil) {
            self.from = from
            self.to = to
            self.reason = reason
        }
    }
    public var camera: String
    public var segments: [Span]
    public var gaps: [Span]
    public init(camera: String, segments: [Span], gaps: [Span]) {
        self.camera = camera
        self.segments = segments
        self.gaps = gaps
    }
}
