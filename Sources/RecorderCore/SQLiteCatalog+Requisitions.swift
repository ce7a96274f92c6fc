public import Foundation

/// A transmission of images to a judicial authority: the register's line for an export
/// (CSI R252-11: date, recipient, medium).
public struct Transmission: Sendable, Hashable {
    public var id: Int64
    public var requisition: String
    public var at: Date
    /// The technician who made the export.
    public var by: String
    /// Who receives it (the OPJ, the prosecutor's office).
    public var recipient: String
    /// The medium's reference (sealed disc number, transfer reference).
    public var medium: String
    public var cameras: [String]
    public var start: Date
    public var end: Date
    public var files: Int
    public var bytes: Int64
    /// SHA-256 of the signed manifest: what was handed over, checkable later.
    public var manifestSHA256: String

    public init(
        id: Int64 = 0, requisition: String, at: Date, by: String, recipient: String, medium: String, cameras: [String], start: Date, end: Date,
        files: Int, bytes: Int64, manifestSHA256: String
    ) {
        self.id = id
        self.requisition = requisition
        self.at = at
        self.by = by
        self.recipient = recipient
        self.medium = medium
        self.cameras = cameras
        self.start = start
        self.end = end
        self.files = files
        self.bytes = bytes
        self.manifestSHA256 = manifestSHA256
    }
}

/// The catalog's requisitions (each holding its footage) and the transmission register (schema 5).
extension SQLiteCatalog {
    static let requisitionColumns =
        "id, number, authority, basis, received_us, deadline_us, scopes, status, created_by, created_us, closed_by, closed_us, released_by, released_us"

    static func requisition(_ row: [SQLValue]) -> Requisition? {
        guard let number = row[1].string, let basis = row[3].string.flatMap(LegalBasis.init(rawValue:)),
            let status = row[7].string.flatMap(RequisitionStatus.init(rawValue:)),
            let scopes = try? JSONDecoder().decode([StoredScope].self, from: Data((row[6].string ?? "").utf8))
        else { return nil }
        var requisition = Requisition(
            id: row[0].int ?? 0, number: number, authority: row[2].string ?? "", basis: basis, received: Date(micros: row[4].int ?? 0),
            deadline: row[5].int.map(Date.init(micros:)), scopes: scopes.map(\.scope), status: status, createdBy: row[8].string ?? "",
            createdAt: Date(micros: row[9].int ?? 0))
        requisition.closedBy = row[10].string
        requisition.closedAt = row[11].int.map(Date.init(micros:))
        requisition.holdsReleasedBy = row[12].string
        requisition.holdsReleasedAt = row[13].int.map(Date.init(micros:))
        return requisition
    }

    /// A scope as stored: times in microseconds, so the text is exact.
    struct StoredScope: Codable {
        var cameras: [String]
        var from: Int64
        var to: Int64
        init(_ scope: RequisitionScope) {
            cameras = scope.cameras
            from = scope.start.micros
            to = scope.end.micros
        }
        var scope: RequisitionScope { RequisitionScope(cameras: cameras, start: Date(micros: from), end: Date(micros: to)) }
    }

    static func scopesText(_ scopes: [RequisitionScope]) -> String {
        String(decoding: (try? JSONEncoder().encode(scopes.map(StoredScope.init))) ?? Data("[]".utf8), as: UTF8.self)
    }

    private func hasTable(_ database: SQLiteDatabase, _ name: String) throws(CatalogError) -> Bool {
        (try database.query("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", [.text(name)]).first?.first?.int ?? 0) > 0
    }

    public func addRequisition(_ requisition: Requisition, holdReason: String) throws(CatalogError) -> (Requisition, [Hold]) {
        try locked { database throws(CatalogError) in
            try database.transaction { () throws(CatalogError) -> (Requisition, [Hold]) in
                let existing = try database.query("SELECT COUNT(*) FROM requisitions WHERE number = ?", [.text(requisition.number)]).first?.first?.int ?? 0
                if existing > 0 { throw CatalogError("there is already a requisition \(requisition.number)", kind: .conflict) }
                try database.query(
                    "INSERT INTO requisitions (number, authority, basis, received_us, deadline_us, scopes, status, created_by, created_us) VALUES (?,?,?,?,?,?,?,?,?)",
                    [
                        .text(requisition.number), .text(requisition.authority), .text(requisition.basis.rawValue), .integer(requisition.received.micros),
                        requisition.deadline.map { .integer($0.micros) } ?? .null, .text(SQLiteCatalog.scopesText(requisition.scopes)),
                        .text(requisition.status.rawValue), .text(requisition.createdBy), .integer(requisition.createdAt.micros),
                    ])
                var stored = requisition
                stored.id = database.lastInsertedRow
                var holds: [Hold] = []
                for scope in requisition.scopes {
                    holds.append(try insertHold(database, Hold(
                        reference: requisition.number, cameras: scope.cameras, start: scope.start, end: scope.end, reason: holdReason,
                        createdBy: requisition.createdBy, createdAt: requisition.createdAt, requisition: requisition.number)))
                }
                return (stored, holds)
            }
        }
    }

    /// A requisition as it was (salvaged from a damaged catalog): its row only, its holds salvaged apart.
    func insertRequisitionRow(_ requisition: Requisition) throws(CatalogError) {
        try locked { database throws(CatalogError) in
            try database.query(
                "INSERT INTO requisitions (number, authority, basis, received_us, deadline_us, scopes, status, created_by, created_us, closed_by, closed_us, released_by, released_us) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    .text(requisition.number), .text(requisition.authority), .text(requisition.basis.rawValue), .integer(requisition.received.micros),
                    requisition.deadline.map { .integer($0.micros) } ?? .null, .text(SQLiteCatalog.scopesText(requisition.scopes)),
                    .text(requisition.status.rawValue), .text(requisition.createdBy), .integer(requisition.createdAt.micros), requisition.closedBy.sql,
                    requisition.closedAt.map { .integer($0.micros) } ?? .null, requisition.holdsReleasedBy.sql,
                    requisition.holdsReleasedAt.map { .integer($0.micros) } ?? .null,
                ])
        }
    }

    /// Adds cameras and a period to a requisition still open, held at once.
    public func extendRequisition(number: String, scope: RequisitionScope, by who: String, at time: Date, holdReason: String) throws(CatalogError) -> (Requisition, Hold)? {
        try locked { database throws(CatalogError) in
            try database.transaction { () throws(CatalogError) -> (Requisition, Hold)? in
                guard var requisition = try database.query("SELECT \(SQLiteCatalog.requisitionColumns) FROM requisitions WHERE number = ?", [.text(number)])
                    .first.flatMap(SQLiteCatalog.requisition), requisition.status != .closed
                else { return nil }
                requisition.scopes.append(scope)
                try database.query("UPDATE requisitions SET scopes = ? WHERE id = ?", [.text(SQLiteCatalog.scopesText(requisition.scopes)), .integer(requisition.id)])
                let hold = try insertHold(database, Hold(
                    reference: number, cameras: scope.cameras, start: scope.start, end: scope.end, reason: holdReason, createdBy: who, createdAt: time,
                    requisition: number))
                return (requisition, hold)
            }
        }
    }

    public func requisitions() throws(CatalogError) -> [Requisition] {
        try locked { database throws(CatalogError) in
            guard try hasTable(database, "requisitions") else { return [] }
            return try database.query("SELECT \(SQLiteCatalog.requisitionColumns) FROM requisitions ORDER BY received_us, id").compactMap(SQLiteCatalog.requisition)
        }
    }

    public func requisition(number: String) throws(CatalogError) -> Requisition? {
        try locked { database throws(CatalogError) in
            guard try hasTable(database, "requisitions") else { return nil }
            return try database.query("SELECT \(SQLiteCatalog.requisitionColumns) FROM requisitions WHERE number = ?", [.text(number)])
                .first.flatMap(SQLiteCatalog.requisition)
        }
    }

    /// Marks a requisition delivered (its images handed over) or closed; nil when there is none.
    public func setRequisitionStatus(number: String, _ status: RequisitionStatus, by who: String, at time: Date) throws(CatalogError) -> Requisition? {
        try locked { database throws(CatalogError) in
            if status == .closed {
                try database.query("UPDATE requisitions SET status = 'closed', closed_by = ?, closed_us = ? WHERE number = ? AND status != 'closed'", [.text(who), .integer(time.micros), .text(number)])
            } else {
                try database.query("UPDATE requisitions SET status = ? WHERE number = ? AND status != 'closed'", [.text(status.rawValue), .text(number)])
            }
            return try database.query("SELECT \(SQLiteCatalog.requisitionColumns) FROM requisitions WHERE number = ?", [.text(number)])
                .first.flatMap(SQLiteCatalog.requisition)
        }
    }

    /// Releases every hold of a closed requisition, in one transaction; the holds released.
    public func releaseRequisitionHolds(number: String, by who: String, at time: Date) throws(CatalogError) -> [Hold] {
        try locked { database throws(CatalogError) in
            try database.transaction { () throws(CatalogError) -> [Hold] in
                let held = try database.query(
                    "SELECT \(SQLiteCatalog.holdColumns) FROM holds WHERE requisition = ? AND released_us IS NULL ORDER BY id", [.text(number)]
                ).map(SQLiteCatalog.hold)
                try database.query("UPDATE holds SET released_by = ?, released_us = ? WHERE requisition = ? AND released_us IS NULL", [.text(who), .integer(time.micros), .text(number)])
                try database.query("UPDATE requisitions SET released_by = ?, released_us = ? WHERE number = ?", [.text(who), .integer(time.micros), .text(number)])
                return held.map { hold in
                    var released = hold
                    released.releasedBy = who
                    released.releasedAt = time
                    return released
                }
            }
        }
    }

    // MARK: Transmissions

    static let transmissionColumns = "id, requisition, at_us, by, recipient, medium, cameras, start_us, end_us, files, bytes, manifest_sha256"

    public func addTransmission(_ transmission: Transmission) throws(CatalogError) -> Transmission {
        try locked { database throws(CatalogError) in
            try database.query(
                "INSERT INTO transmissions (requisition, at_us, by, recipient, medium, cameras, start_us, end_us, files, bytes, manifest_sha256) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    .text(transmission.requisition), .integer(transmission.at.micros), .text(transmission.by), .text(transmission.recipient),
                    .text(transmission.medium), .text(transmission.cameras.joined(separator: ",")), .integer(transmission.start.micros),
                    .integer(transmission.end.micros), .integer(Int64(transmission.files)), .integer(transmission.bytes), .text(transmission.manifestSHA256),
                ])
            var stored = transmission
            stored.id = database.lastInsertedRow
            return stored
        }
    }

    public func transmissions(requisition: String? = nil) throws(CatalogError) -> [Transmission] {
        try locked { database throws(CatalogError) in
            guard try hasTable(database, "transmissions") else { return [] }
            return try database.query(
                "SELECT \(SQLiteCatalog.transmissionColumns) FROM transmissions WHERE (?1 IS NULL OR requisition = ?1) ORDER BY at_us, id", [requisition.sql]
            ).map { row in
                Transmission(
                    id: row[0].int ?? 0, requisition: row[1].string ?? "", at: Date(micros: row[2].int ?? 0), by: row[3].string ?? "",
                    recipient: row[4].string ?? "", medium: row[5].string ?? "",
                    cameras: (row[6].string ?? "").split(separator: ",").map(String.init), start: Date(micros: row[7].int ?? 0),
                    end: Date(micros: row[8].int ?? 0), files: Int(row[9].int ?? 0), bytes: row[10].int ?? 0, manifestSHA256: row[11].string ?? "")
            }
        }
    }
}

/// Destructions grouped for the register: one camera's footage destroyed on one day for one reason.
public struct DestructionGroup: Sendable, Hashable {
    public var camera: String
    public var start: Date
    public var end: Date
    public var destroyedAt: Date
    public var segments: Int
    public var bytes: Int64
    public var reason: String
}

/// What a camera's kept footage spans in a period.
public struct RecordedSummary: Sendable, Hashable {
    public var camera: String
    public var start: Date
    public var end: Date
    public var segments: Int
    public var bytes: Int64
}

extension SQLiteCatalog {
    public func recordedSummary(camera: String, from: Date, to: Date) throws(CatalogError) -> RecordedSummary? {
        try locked { database throws(CatalogError) in
            // The main stream's: the sub stream recorded beside it is the same period again.
            guard let row = try database.query(
                "SELECT MIN(start_us), MAX(end_us), COUNT(*), IFNULL(SUM(bytes), 0) FROM segments WHERE camera = ? AND \(try streamExpression(database)) = 'main' AND end_us > ? AND start_us < ?",
                [.text(camera), .integer(from.micros), .integer(to.micros)]
            ).first, let start = row[0].int, let end = row[1].int
            else { return nil }
            return RecordedSummary(camera: camera, start: Date(micros: start), end: Date(micros: end), segments: Int(row[2].int ?? 0), bytes: row[3].int ?? 0)
        }
    }

    public func destructionGroups(from: Date, to: Date) throws(CatalogError) -> [DestructionGroup] {
        try locked { database throws(CatalogError) in
            try database.query(
                """
                SELECT camera, MIN(start_us), MAX(end_us), MIN(destroyed_us), COUNT(*), SUM(bytes), reason FROM destructions
                WHERE destroyed_us IS NOT NULL AND destroyed_us >= ? AND destroyed_us < ?
                GROUP BY camera, destroyed_us / 86400000000, reason ORDER BY MIN(destroyed_us), camera
                """,
                [.integer(from.micros), .integer(to.micros)]
            ).map { row in
                DestructionGroup(
                    camera: row[0].string ?? "", start: Date(micros: row[1].int ?? 0), end: Date(micros: row[2].int ?? 0),
                    destroyedAt: Date(micros: row[3].int ?? 0), segments: Int(row[4].int ?? 0), bytes: row[5].int ?? 0, reason: row[6].string ?? "")
            }
        }
    }
}
