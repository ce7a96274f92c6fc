public import Foundation

/// The register of CSI R252-11 for a period: the recordings made per camera, each
/// destruction, each transmission to a judicial authority. GET /v1/register?from=&to=.
public struct RegisterInfo: Codable, Sendable, Hashable {
    public struct Recording: Codable, Sendable, Hashable {
        public var camera: String
        public var name: String
        public var from: Date
        public var to: Date
        /// `kept` (in storage now) or `destroyed`.
        public var state: String
        public var segments: Int
        public var bytes: Int64
        public init(camera: String, name: String, from: Date, to: Date, state: String, segments: Int, bytes: Int64) {
            self.camera = camera
            self.name = name
            self.from = from
            self.to = to
            self.state = state
            self.segments = segments
            self.bytes = bytes
        }
    }
    public struct Destruction: Codable, Sendable, Hashable {
        public var camera: String
        public var destroyedAt: Date
        public var from: Date
        public var to: Date
        public var segments: Int
        public var bytes: Int64
        public var reason: String
        public init(camera: String, destroyedAt: Date, from: Date, to: Date, segments: Int, bytes: Int64, reason: String) {
            self.camera = camera
            self.destroyedAt = destroyedAt
            self.from = from
            self.to = to
            self.segments = segments
            self.bytes = bytes
            self.reason = reason
        }
    }
    public var site: String
    public var timeZone: String
    public var from: Date
    public var to: Date
    public var generatedAt: Date
    public var generatedBy: String
    public var recordings: [Recording]
    public var destructions: [Destruction]
    public var transmissions: [TransmissionInfo]
    public init(
        site: String, timeZone: String, from: Date, to: Date, generatedAt: Date, generatedBy: String, recordings: [Recording], destructions: [Destruction],
        transmissions: [TransmissionInfo]
    ) {
        self.site = site
        self.timeZone = timeZone
        self.from = from
        self.to = to
        self.generatedAt = generatedAt
        self.generatedBy = generatedBy
        self.recordings = recordings
        self.destructions = destructions
        self.transmissions = transmissions
    }
}

/// What a supervisor or an auditor hands to the prefecture's commission or the CNIL:
/// GET /v1/compliance.
public struct ComplianceInfo: Codable, Sendable, Hashable {
    public struct CameraRetention: Codable, Sendable, Hashable {
        public var camera: String
        public var name: String
        public var retentionDays: Int
        public var oldest: Date?
        public var oldestAgeDays: Double?
        /// `ok`, `held` (older than its retention, under a hold), `over` (older and not held: a breach), `none` (nothing kept).
        public var status: String
        public init(camera: String, name: String, retentionDays: Int, oldest: Date?, oldestAgeDays: Double?, status: String) {
            self.camera = camera
            self.name = name
            self.retentionDays = retentionDays
            self.oldest = oldest
            self.oldestAgeDays = oldestAgeDays
            self.status = status
        }
    }
    public struct HoldLine: Codable, Sendable, Hashable {
        public var id: Int64
        public var reference: String
        public var cameras: [String]
        public var from: Date
        public var to: Date
        public var createdBy: String
        public var createdAt: Date
        public var ageDays: Double
        /// The requisition's status (`open`, `delivered`, `closed`), or `none` when no requisition has that number.
        public var requisition: String
        public init(id: Int64, reference: String, cameras: [String], from: Date, to: Date, createdBy: String, createdAt: Date, ageDays: Double, requisition: String) {
            self.id = id
            self.reference = reference
            self.cameras = cameras
            self.from = from
            self.to = to
            self.createdBy = createdBy
            self.createdAt = createdAt
            self.ageDays = ageDays
            self.requisition = requisition
        }
    }
    public struct AccountLine: Codable, Sendable, Hashable {
        public var name: String
        public var role: String
        public var cameras: [String]
        public var unixUser: String?
        public var createdBy: String
        public var createdAt: Date
        public var expires: Date?
        public var disabledAt: Date?
        public var lastLogin: Date?
        public init(
            name: String, role: String, cameras: [String], unixUser: String?, createdBy: String, createdAt: Date, expires: Date?, disabledAt: Date?, lastLogin: Date?
        ) {
            self.name = name
            self.role = role
            self.cameras = cameras
            self.unixUser = unixUser
            self.createdBy = createdBy
            self.createdAt = createdAt
            self.expires = expires
            self.disabledAt = disabledAt
            self.lastLogin = lastLogin
        }
    }
    public struct FailedLogins: Codable, Sendable, Hashable {
        public var who: String
        public var count: Int
        public var last: Date
        public init(who: String, count: Int, last: Date) {
            self.who = who
            self.count = count
            self.last = last
        }
    }
    public struct AuditCheck: Codable, Sendable, Hashable {
        public var entries: Int
        public var valid: Bool
        public var problems: [String]
        public var notes: [String]
        public var signedBy: [String]
        public var headSequence: Int64?
        public var headHash: String?
        public init(entries: Int, valid: Bool, problems: [String], notes: [String], signedBy: [String], headSequence: Int64?, headHash: String?) {
            self.entries = entries
            self.valid = valid
            self.problems = problems
            self.notes = notes
            self.signedBy = signedBy
            self.headSequence = headSequence
            self.headHash = headHash
        }
    }
    public var site: String
    public var timeZone: String
    public var mode: String
    public var generatedAt: Date
    public var generatedBy: String
    public var singleUser: Bool
    public var authorisedRetentionDays: Int
    public var outsideRequisition: String
    public var cameras: [CameraRetention]
    public var holds: [HoldLine]
    public var requisitions: [RequisitionInfo]
    public var accounts: [AccountLine]
    public var failedLogins: [FailedLogins]
    public var failedLoginsSince: Date
    public var audit: AuditCheck
    public var evidenceCertificateSHA256: String?
    public init(
        site: String, timeZone: String, mode: String, generatedAt: Date, generatedBy: String, singleUser: Bool, authorisedRetentionDays: Int,
        outsideRequisition: String, cameras: [CameraRetention], holds: [HoldLine], requisitions: [RequisitionInfo], accounts: [AccountLine],
        failedLogins: [FailedLogins], failedLoginsSince: Date, audit: AuditCheck, evidenceCertificateSHA256: String?
    ) {
        self.site = site
        self.timeZone = timeZone
        self.mode = mode
        self.generatedAt = generatedAt
        self.generatedBy = generatedBy
        self.singleUser = singleUser
        self.authorisedRetentionDays = authorisedRetentionDays
        self.outsideRequisition = outsideRequisition
        self.cameras = cameras
        self.holds = holds
        self.requisitions = requisitions
        self.accounts = accounts
        self.failedLogins = failedLogins
        self.failedLoginsSince = failedLoginsSince
        self.audit = audit
        self.evidenceCertificateSHA256 = evidenceCertificateSHA256
    }
}

extension RecorderService {
    public func register(from: Date, to: Date) throws(ServiceError) -> RegisterInfo {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        return try call(
            "GET", "/v1/register?from=\(RecorderService.escape(from.formatted(style)))&to=\(RecorderService.escape(to.formatted(style)))", as: RegisterInfo.self)
    }
    public func compliance() throws(ServiceError) -> ComplianceInfo { try call("GET", "/v1/compliance", as: ComplianceInfo.self) }
}
