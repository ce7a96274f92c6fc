public import Foundation

/// Cameras and a period a requisition asks for.
public struct ScopeInfo: Codable, Sendable, Hashable {
    /// Camera ids; empty: every camera of the site.
    public var cameras: [String]
    public var from: Date
    public var to: Date
    public init(cameras: [String], from: Date, to: Date) {
        self.cameras = cameras
        self.from = from
        self.to = to
    }
}

/// A judicial requisition as the recorder keeps it.
public struct RequisitionInfo: Codable, Sendable, Hashable {
    public var number: String
    public var authority: String
    /// `60-1`, `77-1-1` or `99-3` (code of criminal procedure).
    public var basis: String
    public var received: Date
    public var deadline: Date?
    public var scopes: [ScopeInfo]
    /// `open`, `delivered` or `closed`.
    public var status: String
    public var createdBy: String
    public var createdAt: Date
    public var closedBy: String?
    public var closedAt: Date?
    public var holdsReleasedBy: String?
    public var holdsReleasedAt: Date?
    /// Its holds in force.
    public var holds: [Int64]
    /// Its exports (the transmission register's lines).
    public var transmissions: [TransmissionInfo]
    /// The first footage kept inside its cameras and periods (where a console opens it).
    public var firstFootage: Date?

    public init(
        number: String, authority: String, basis: String, received: Date, deadline: Date?, scopes: [ScopeInfo], status: String, createdBy: String,
        createdAt: Date, closedBy: String?, closedAt: Date?, holdsReleasedBy: String?, holdsReleasedAt: Date?, holds: [Int64],
        transmissions: [TransmissionInfo]
    ) {
        self.number = number
        self.authority = authority
        self.basis = basis
        self.received = received
        self.deadline = deadline
        self.scopes = scopes
        self.status = status
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.closedBy = closedBy
        self.closedAt = closedAt
        self.holdsReleasedBy = holdsReleasedBy
        self.holdsReleasedAt = holdsReleasedAt
        self.holds = holds
        self.transmissions = transmissions
    }
    public init(
        number: String, authority: String, basis: String, received: Date, deadline: Date?, scopes: [ScopeInfo], status: String, createdBy: String,
        createdAt: Date, closedBy: String?, closedAt: Date?, holdsReleasedBy: String?, holdsReleasedAt: Date?, holds: [Int64],
        transmissions: [TransmissionInfo], firstFootage: Date?
    ) {
        self.init(
            number: number, authority: authority, basis: basis, received: received, deadline: deadline, scopes: scopes, status: status, createdBy: createdBy,
            createdAt: createdAt, closedBy: closedBy, closedAt: closedAt, holdsReleasedBy: holdsReleasedBy, holdsReleasedAt: holdsReleasedAt, holds: holds,
            transmissions: transmissions)
        self.firstFootage = firstFootage
    }
}

/// POST /v1/requisitions.
public struct RequisitionRequest: Codable, Sendable {
    public var number: String
    public var authority: String
    public var basis: String
    /// Camera ids or numbers; empty: every camera.
    public var cameras: [String]
    public var from: Date
    public var to: Date
    public var received: Date?
    public var deadline: Date?
    public init(number: String, authority: String, basis: String, cameras: [String], from: Date, to: Date, received: Date?, deadline: Date?) {
        self.number = number
        self.authority = authority
        self.basis = basis
        self.cameras = cameras
        self.from = from
        self.to = to
        self.received = received
        self.deadline = deadline
    }
}

/// POST /v1/requisitions/{number}/close: `release` asks for the holds to be released too
/// (a supervisor only; otherwise they stay until a supervisor confirms).
public struct CloseRequest: Codable, Sendable {
    public var reason: String
    public var release: Bool
    public init(reason: String, release: Bool) {
        self.reason = reason
        self.release = release
    }
}

/// One line of the transmission register.
public struct TransmissionInfo: Codable, Sendable, Hashable {
    public var requisition: String
    public var at: Date
    public var by: String
    public var recipient: String
    public var medium: String
    public var cameras: [String]
    public var from: Date
    public var to: Date
    public var files: Int
    public var bytes: Int64
    public var manifestSHA256: String
    public init(
        requisition: String, at: Date, by: String, recipient: String, medium: String, cameras: [String], from: Date, to: Date, files: Int, bytes: Int64,
        manifestSHA256: String
    ) {
        self.requisition = requisition
        self.at = at
        self.by = by
        self.recipient = recipient
        self.medium = medium
        self.cameras = cameras
        self.from = from
        self.to = to
        self.files = files
        self.bytes = bytes
        self.manifestSHA256 = manifestSHA256
    }
}

extension RecorderService {
    static func requisitionPath(_ number: String) -> String { "/v1/requisitions/\(escape(number))" }

    public func requisitions() throws(ServiceError) -> [RequisitionInfo] { try call("GET", "/v1/requisitions", as: [RequisitionInfo].self) }
    public func requisition(number: String) throws(ServiceError) -> RequisitionInfo {
        try call("GET", RecorderService.requisitionPath(number), as: RequisitionInfo.self)
    }
    public func addRequisition(_ request: RequisitionRequest) throws(ServiceError) -> RequisitionInfo {
        try call("POST", "/v1/requisitions", body: API.encode(request), as: RequisitionInfo.self)
    }
    public func extendRequisition(number: String, scope: ScopeInfo) throws(ServiceError) -> RequisitionInfo {
        try call("POST", RecorderService.requisitionPath(number) + "/extend", body: API.encode(scope), as: RequisitionInfo.self)
    }
    public func closeRequisition(number: String, reason: String, release: Bool) throws(ServiceError) -> RequisitionInfo {
        try call("POST", RecorderService.requisitionPath(number) + "/close", body: API.encode(CloseRequest(reason: reason, release: release)), as: RequisitionInfo.self)
    }
    public func releaseRequisition(number: String, reason: String) throws(ServiceError) -> RequisitionInfo {
        try call("POST", RecorderService.requisitionPath(number) + "/release", body: API.encode(ReleaseRequest(reason: reason)), as: RequisitionInfo.self)
    }
}

/// POST /v1/exports: an export of a requisition's footage (cameras and period default to the
/// requisition's). `output`: a folder on the recorder's machine (local clients); without it the
/// export goes under the recorder's storage (STORAGE/exports).
public struct ExportRequest: Codable, Sendable {
    public var requisition: String
    public var cameras: [String]
    public var from: Date?
    public var to: Date?
    public var recipient: String
    public var medium: String
    public var output: String?
    public init(requisition: String, cameras: [String], from: Date?, to: Date?, recipient: String, medium: String, output: String?) {
        self.requisition = requisition
        self.cameras = cameras
        self.from = from
        self.to = to
        self.recipient = recipient
        self.medium = medium
        self.output = output
    }
}

/// An export being made, or made: GET /v1/exports/{id}.
public struct ExportStatus: Codable, Sendable, Hashable {
    public var id: String
    public var requisition: String
    /// `running`, `done` or `failed`.
    public var state: String
    public var directory: String
    public var cameras: [String]
    public var camerasDone: Int
    public var files: Int
    public var bytes: Int64
    public var manifestSHA256: String?
    public var certificateSHA256: String?
    public var error: String?
    public var seconds: Double
    public init(
        id: String, requisition: String, state: String, directory: String, cameras: [String], camerasDone: Int, files: Int, bytes: Int64,
        manifestSHA256: String?, certificateSHA256: String?, error: String?, seconds: Double
    ) {
        self.id = id
        self.requisition = requisition
        self.state = state
        self.directory = directory
        self.cameras = cameras
        self.camerasDone = camerasDone
        self.files = files
        self.bytes = bytes
        self.manifestSHA256 = manifestSHA256
        self.certificateSHA256 = certificateSHA256
        self.error = error
        self.seconds = seconds
    }
}

extension RecorderService {
    public func startExport(_ request: ExportRequest) throws(ServiceError) -> ExportStatus {
        try call("POST", "/v1/exports", body: API.encode(request), as: ExportStatus.self)
    }
    public func export(id: String) throws(ServiceError) -> ExportStatus { try call("GET", "/v1/exports/\(RecorderService.escape(id))", as: ExportStatus.self) }
    public func transmissions() throws(ServiceError) -> [TransmissionInfo] { try call("GET", "/v1/transmissions", as: [TransmissionInfo].self) }
    /// A finished export's files (`name`, `bytes`), to copy from the recorder.
    public func exportFiles(id: String) throws(ServiceError) -> [[String: String]] {
        try call("GET", "/v1/exports/\(RecorderService.escape(id))/files", as: [[String: String]].self)
    }
    /// Up to 8 MiB of an export's file from `offset` (empty at its end).
    public func exportChunk(id: String, name: String, offset: Int64) throws(ServiceError) -> [UInt8] {
        let response = try transport.exchange("GET", "/v1/exports/\(RecorderService.escape(id))/files/\(RecorderService.escape(name))?offset=\(offset)", body: nil)
        guard (200..<300).contains(response.status) else { throw ServiceError.from(response) }
        return response.body
    }
}
