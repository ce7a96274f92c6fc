public import Foundation

/// The object index of requisitions' analyses (schema 6): passages, their colours ranked
/// for search, their thumbnails, and which segments each requisition's analysis has done.
/// A trigger deletes a segment's passages with the segment: no index outlives its footage.
extension SQLiteCatalog {
    static let passageColumns = "id, requisition, camera, segment_id, start_us, end_us, class, confidence, colours, direction, box, descriptor"

    static func passage(_ row: [SQLValue]) -> Passage? {
        guard let id = row[0].int, let requisition = row[1].string, let camera = row[2].string else { return nil }
        let colours = (try? JSONDecoder().decode([Passage.NamedShare].self, from: Data((row[8].string ?? "[]").utf8))) ?? []
        let box = (row[10].string ?? "").split(separator: ",").compactMap { Double($0) }
        let bytes = row[11].bytes ?? []
        let descriptor = stride(from: 0, to: bytes.count - 3, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
        return Passage(
            id: id, requisition: requisition, camera: camera, segmentID: row[3].int ?? 0, start: Date(micros: row[4].int ?? 0),
            end: Date(micros: row[5].int ?? 0), objectClass: row[6].string ?? "", confidence: row[7].double ?? 0, colours: colours,
            direction: row[9].string ?? "", box: box, descriptor: descriptor)
    }

    /// The segments already analysed for a requisition.
    public func analysedSegments(requisition: String) throws(CatalogError) -> Set<Int64> {
        try locked { database throws(CatalogError) in
            Set(try database.query("SELECT segment_id FROM analysed_segments WHERE requisition = ?", [.text(requisition)]).compactMap { $0.first?.int })
        }
    }

    /// Saves what the analysis of one segment found and marks it done, in one transaction
    /// (a stopped analysis resumes after its last saved segment). A segment destroyed
    /// meanwhile saves nothing.
    public func saveAnalysis(requisition: String, segmentID: Int64, passages: [(Passage, [UInt8]?)], at: Date = Date()) throws(CatalogError) {
        try locked { database throws(CatalogError) in
            try database.transaction { () throws(CatalogError) in
                guard try database.query("SELECT 1 FROM segments WHERE id = ?", [.integer(segmentID)]).first != nil else { return }
                for (passage, thumbnail) in passages {
                    var bytes: [UInt8] = []
                    bytes.reserveCapacity(passage.descriptor.count * 4)
                    for value in passage.descriptor {
                        let bits = value.bitPattern
                        bytes += [UInt8(bits & 0xff), UInt8(bits >> 8 & 0xff), UInt8(bits >> 16 & 0xff), UInt8(bits >> 24)]
                    }
                    let colours = String(decoding: (try? JSONEncoder().encode(passage.colours)) ?? Data("[]".utf8), as: UTF8.self)
                    try database.query(
                        "INSERT INTO passages (requisition, camera, segment_id, start_us, end_us, class, confidence, colours, direction, box, descriptor) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        [
                            .text(requisition), .text(passage.camera), .integer(passage.segmentID), .integer(passage.start.micros), .integer(passage.end.micros),
                            .text(passage.objectClass), .real(passage.confidence), .text(colours), .text(passage.direction),
                            .text(passage.box.map { String(format: "%.4f", $0) }.joined(separator: ",")), .blob(bytes),
                        ])
                    let id = database.lastInsertedRow
                    for colour in passage.colours {
                        try database.query(
                            "INSERT INTO passage_colours (passage_id, requisition, class, colour, score, start_us, camera) VALUES (?,?,?,?,?,?,?)",
                            [
                                .integer(id), .text(requisition), .text(passage.objectClass), .text(colour.name), .real(colour.share * passage.confidence),
                                .integer(passage.start.micros), .text(passage.camera),
                            ])
                    }
                    if let thumbnail { try database.query("INSERT INTO passage_thumbnails (passage_id, image) VALUES (?, ?)", [.integer(id), .blob(thumbnail)]) }
                }
                try database.query(
                    "INSERT OR REPLACE INTO analysed_segments (requisition, segment_id, analysed_us) VALUES (?,?,?)",
                    [.text(requisition), .integer(segmentID), .integer(at.micros)])
            }
        }
    }

    /// Passages of a requisition matching a query, best first: by the colour's share times
    /// the detector's confidence when a colour is asked, else by confidence.
    public func searchPassages(_ query: PassageQuery) throws(CatalogError) -> [Passage] {
        try locked { database throws(CatalogError) in
            let cameras = query.cameras.isEmpty ? nil : String(decoding: (try? JSONEncoder().encode(query.cameras)) ?? Data(), as: UTF8.self)
            let cameraTest = "(?5 IS NULL OR p.camera IN (SELECT value FROM json_each(?5)))"
            let timeTest = "(?3 IS NULL OR p.end_us > ?3) AND (?4 IS NULL OR p.start_us < ?4)"
            let rows: [[SQLValue]]
            let parameters: [SQLValue] = [
                .text(query.requisition), query.objectClass.sql, query.from.map { .integer($0.micros) } ?? .null, query.to.map { .integer($0.micros) } ?? .null,
                cameras.sql, query.colour.sql, .integer(Int64(query.limit)),
            ]
            let columns = SQLiteCatalog.passageColumns.split(separator: ",").map { "p." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
            if query.colour != nil {
                rows = try database.query(
                    """
                    SELECT \(columns) FROM passage_colours c JOIN passages p ON p.id = c.passage_id
                    WHERE c.requisition = ?1 AND c.colour = ?6 AND (?2 IS NULL OR c.class = ?2) AND \(timeTest) AND \(cameraTest)
                    ORDER BY c.score DESC, p.start_us LIMIT ?7
                    """, parameters)
            } else {
                rows = try database.query(
                    """
                    SELECT \(columns) FROM passages p
                    WHERE p.requisition = ?1 AND (?2 IS NULL OR p.class = ?2) AND \(timeTest) AND \(cameraTest) AND (?6 IS NULL OR 1)
                    ORDER BY p.confidence DESC, p.start_us LIMIT ?7
                    """, parameters)
            }
            return rows.compactMap(SQLiteCatalog.passage)
        }
    }

    /// Every passage of a requisition of one class (the candidates when following one), by time.
    public func passages(requisition: String, objectClass: String? = nil, from: Date? = nil, to: Date? = nil) throws(CatalogError) -> [Passage] {
        try locked { database throws(CatalogError) in
            try database.query(
                """
                SELECT \(SQLiteCatalog.passageColumns) FROM passages WHERE requisition = ?1 AND (?2 IS NULL OR class = ?2)
                AND (?3 IS NULL OR end_us > ?3) AND (?4 IS NULL OR start_us < ?4) ORDER BY start_us, id
                """,
                [.text(requisition), objectClass.sql, from.map { .integer($0.micros) } ?? .null, to.map { .integer($0.micros) } ?? .null]
            ).compactMap(SQLiteCatalog.passage)
        }
    }

    public func passage(id: Int64) throws(CatalogError) -> Passage? {
        try locked { database throws(CatalogError) in
            try database.query("SELECT \(SQLiteCatalog.passageColumns) FROM passages WHERE id = ?", [.integer(id)]).first.flatMap(SQLiteCatalog.passage)
        }
    }

    /// A passage's thumbnail (binary PPM), when it has one.
    public func thumbnail(passage id: Int64) throws(CatalogError) -> [UInt8]? {
        try locked { database throws(CatalogError) in
            try database.query("SELECT image FROM passage_thumbnails WHERE passage_id = ?", [.integer(id)]).first?.first?.bytes
        }
    }

    public func passageCount(requisition: String) throws(CatalogError) -> Int {
        try locked { database throws(CatalogError) in
            Int(try database.query("SELECT COUNT(*) FROM passages WHERE requisition = ?", [.text(requisition)]).first?.first?.int ?? 0)
        }
    }
}
