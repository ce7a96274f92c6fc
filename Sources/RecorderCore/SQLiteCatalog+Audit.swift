public import Foundation

/// The catalog's audit chain: each entry hashed with the one before it, and signed by the
/// recorder's key when it has one.
extension SQLiteCatalog {
    public func appendAudit(_ event: OperatorEvent, signingKey: AuditSigningKey?) throws(CatalogError) -> AuditEntry {
        try locked { database throws(CatalogError) in
            try database.transaction { () throws(CatalogError) -> AuditEntry in
                let last = try database.query("SELECT sequence, hash FROM audit ORDER BY sequence DESC LIMIT 1").first
                let sequence = (last?[0].int ?? 0) + 1
                let previous = last?[1].string ?? AuditEntry.genesis
                let hash = AuditEntry.hash(sequence: sequence, event: event, previousHash: previous)
                let signature = signingKey?.sign(AuditSigningKey.entryMessage(hash))
                try database.query(
                    "INSERT INTO audit (\(SQLiteCatalog.auditColumns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        .integer(sequence), .integer(event.when.micros), .text(event.who), .text(event.action.name), event.cameraID.sql,
                        event.from.map { .integer($0.micros) } ?? .null, event.to.map { .integer($0.micros) } ?? .null, event.reason.sql,
                        event.detail.sql, .text(previous), .text(hash), (signingKey?.id).sql, signature.sql, event.requisition.sql,
                    ])
                return AuditEntry(sequence: sequence, event: event, previousHash: previous, hash: hash, signer: signingKey?.id, signature: signature)
            }
        }
    }

    public func lastAuditEntry(action: OperatorEvent.Action) throws(CatalogError) -> AuditEntry? {
        let select = try auditSelect
        return try locked { database throws(CatalogError) in
            try database.query(
                "SELECT \(select) FROM audit WHERE action = ? ORDER BY sequence DESC LIMIT 1",
                [.text(action.name)]
            ).first.map(SQLiteCatalog.auditEntry)
        }
    }

    static let auditColumns = "sequence, at_us, who, action, camera, from_us, to_us, reason, detail, previous_hash, hash, signer, signature, requisition"
    /// What is read of the audit table: a catalog of an earlier schema read without
    /// upgrading it (read-only) has no signatures.
    var auditSelect: String {
        get throws(CatalogError) {
            try locked { database throws(CatalogError) in
                let columns = try database.query("SELECT name FROM pragma_table_info('audit')").compactMap { $0.first?.string }
                var select = SQLiteCatalog.auditColumns
                if !columns.contains("signature") { select = select.replacingOccurrences(of: "signer, signature", with: "NULL, NULL") }
                if !columns.contains("requisition") { select = select.replacingOccurrences(of: ", requisition", with: ", NULL") }
                return select
            }
        }
    }

    static func auditEntry(_ row: [SQLValue]) -> AuditEntry {
        AuditEntry(
            sequence: row[0].int ?? 0,
            event: OperatorEvent(
                who: row[2].string ?? "", when: Date(micros: row[1].int ?? 0), action: .init(row[3].string ?? ""),
                cameraID: row[4].string, detail: row[8].string, from: row[5].int.map(Date.init(micros:)),
                to: row[6].int.map(Date.init(micros:)), reason: row[7].string, requisition: row[13].string),
            previousHash: row[9].string ?? "", hash: row[10].string ?? "", signer: row[11].string, signature: row[12].string)
    }

    public func auditEntries(camera: String?, since: Date?, who: String?) throws(CatalogError) -> [AuditEntry] {
        let select = try auditSelect
        return try locked { database throws(CatalogError) in
            try database.query(
                """
                SELECT \(select) FROM audit
                WHERE (?1 IS NULL OR camera = ?1) AND (?2 IS NULL OR at_us >= ?2) AND (?3 IS NULL OR who = ?3) ORDER BY sequence
                """,
                [camera.sql, since.map { .integer($0.micros) } ?? .null, who.sql]
            ).map(SQLiteCatalog.auditEntry)
        }
    }
}
