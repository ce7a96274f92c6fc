public import Foundation

/// The object index of requisitions' analyses (schema 6; 7 adds indexes by time, camera and rank): passages, their colours ranked
/// for search, their thumbnails, and which segments each requisition's analysis has done.
/// A trigger deletes a segment's passages with the segment: no index outlives its footage.
extension SQLiteCatalog {
    static let passageColumns = "id, requisition, camera, segment_id, start_us, end_us, class, confidence, colours, direction, box, descriptor"

    static func passage(_ row: [SQLValue]) -> Passage? {
        guard let id = row[0].int, let requisition = row[1].string, let camera = row[2].string else { return nil }
        let colours = SQLiteCatalog.colours(row[8].string ?? "[]")
        let box = (row[10].string ?? "").split(separator: ",").compactMap { Double($0) }
        let descriptor = SQLiteCatalog.descriptor(row[11].bytes ?? [])
        return Passage(
            id: id, requisition: requisition, camera: camera, segmentID: row[3].int ?? 0, start: Date(micros: row[4].int ?? 0),
            end: Date(micros: row[5].int ?? 0), objectClass: row[6].string ?? "", confidence: row[7].double ?? 0, colours: colours,
            direction: row[9].string ?? "", box: box, descriptor: descriptor)
    }

    /// A passage's colours from their JSON (`[{"name": "red", "share": 0.9}, ...]`), read
    /// by hand: following reads thousands of passages a search, and a JSON decoder per row
    /// was most of its time. Anything else is left to the decoder.
    static func colours(_ text: String) -> [Passage.NamedShare] {
        var found: [Passage.NamedShare] = []
        for object in text.split(separator: "}") {
            guard let body = object.split(separator: "{", maxSplits: 1).last, body.contains("\"") else { continue }
            var name: String? = nil, share: Double? = nil
            for field in body.split(separator: ",") {
                let parts = field.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { return fallback(text) }
                let key = parts[0].trimmingCharacters(in: .whitespaces), value = parts[1].trimmingCharacters(in: .whitespaces)
                if key == "\"name\"", value.count >= 2, value.first == "\"", value.last == "\"", !value.dropFirst().dropLast().contains("\\") {
                    name = String(value.dropFirst().dropLast())
                } else if key == "\"share\"" {
                    share = Double(value)
                } else {
                    return fallback(text)
                }
            }
            guard let name, let share else { return fallback(text) }
            found.append(Passage.NamedShare(name: name, share: share))
        }
        return found
    }

    private static func fallback(_ text: String) -> [Passage.NamedShare] {
        (try? JSONDecoder().decode([Passage.NamedShare].self, from: Data(text.utf8))) ?? []
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
        try saveAnalyses(requisition: requisition, segments: [(segmentID, passages)], at: at)
    }

    /// `saveAnalysis` for many segments in one transaction (bulk loads: benchmarks).
    public func saveAnalyses(requisition: String, segments: [(id: Int64, passages: [(Passage, [UInt8]?)])], at: Date = Date()) throws(CatalogError) {
        try locked { database throws(CatalogError) in
            try database.transaction { () throws(CatalogError) in
                for (segmentID, passages) in segments {
                    guard try database.query("SELECT 1 FROM segments WHERE id = ?", [.integer(segmentID)]).first != nil else { continue }
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
    }

    /// Passages of a requisition matching a query, best first: by the colour's share times
    /// the detector's confidence when a colour is asked, else by confidence. The statement
    /// holds only the criteria given, on the index that answers it without sorting the
    /// whole requisition: by camera and time when cameras are named (a few cameras' rows),
    /// else in rank order, filtered (a month of a town's passages is millions of rows).
    public func searchPassages(_ query: PassageQuery) throws(CatalogError) -> [Passage] {
        try locked { database throws(CatalogError) in
            let table = query.colour != nil ? "c" : "p"
            var conditions = ["\(table).requisition = ?"], parameters: [SQLValue] = [.text(query.requisition)]
            if let colour = query.colour {
                conditions.append("c.colour = ?")
                parameters.append(.text(colour))
            }
            if let name = query.objectClass {
                conditions.append("\(table).class = ?")
                parameters.append(.text(name))
            }
            if !query.cameras.isEmpty {
                conditions.append("\(table).camera IN (SELECT value FROM json_each(?))")
                parameters.append(.text(String(decoding: (try? JSONEncoder().encode(query.cameras)) ?? Data("[]".utf8), as: UTF8.self)))
            }
            if let to = query.to {
                conditions.append("\(table).start_us < ?")
                parameters.append(.integer(to.micros))
            }
            if let from = query.from {
                conditions.append("p.end_us > ?")
                parameters.append(.integer(from.micros))
                // What ends after `from` began at most the longest passage before it: a bound
                // the index by time uses.
                let longest = try database.query("SELECT longest_us FROM passage_counts WHERE requisition = ?", [.text(query.requisition)]).first?.first?.int ?? 0
                conditions.append("\(table).start_us >= ?")
                parameters.append(.integer(from.micros - longest))
            }
            parameters.append(.integer(Int64(query.limit)))
            let columns = SQLiteCatalog.passageColumns.split(separator: ",").map { "p." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
            let index: String
            if query.colour != nil {
                index = !query.cameras.isEmpty ? "passage_colours_by_camera" : (query.objectClass != nil ? "passage_colours_ranked" : "passage_colours_by_score")
            } else {
                index = !query.cameras.isEmpty ? "passages_by_camera" : (query.objectClass != nil ? "passages_by_requisition" : "passages_by_confidence")
            }
            let from = query.colour != nil ? "passage_colours c INDEXED BY \(index) JOIN passages p ON p.id = c.passage_id" : "passages p INDEXED BY \(index)"
            let order = query.colour != nil ? "c.score DESC, p.start_us" : "p.confidence DESC, p.start_us"
            let rows = try database.query("SELECT \(columns) FROM \(from) WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order) LIMIT ?", parameters)
            return rows.compactMap(SQLiteCatalog.passage)
        }
    }

    /// The passages of a requisition (of one class) that begin from `from` and before `to`
    /// (the candidates when following one), by time.
    public func passages(requisition: String, objectClass: String? = nil, from: Date? = nil, to: Date? = nil) throws(CatalogError) -> [Passage] {
        try locked { database throws(CatalogError) in
            try database.query(
                """
                SELECT \(SQLiteCatalog.passageColumns) FROM passages WHERE requisition = ?1 AND (?2 IS NULL OR class = ?2)
                AND start_us >= coalesce(?3, -9223372036854775807) AND start_us < coalesce(?4, 9223372036854775807) ORDER BY start_us, id
                """,
                [.text(requisition), objectClass.sql, from.map { .integer($0.micros) } ?? .null, to.map { .integer($0.micros) } ?? .null]
            ).compactMap(SQLiteCatalog.passage)
        }
    }

    public func followingCandidates(requisition: String, from: Date, to: Date) throws(CatalogError) -> [Passage] {
        try locked { database throws(CatalogError) in
            var found: [Passage] = []
            try database.each(
                "SELECT id, camera, segment_id, start_us, end_us, class, confidence, descriptor FROM passages WHERE requisition = ? AND start_us >= ? AND start_us < ? ORDER BY start_us, id",
                [.text(requisition), .integer(from.micros), .integer(to.micros)]
            ) { row in
                guard let id = row[0].int, let camera = row[1].string else { return }
                found.append(
                    Passage(
                        id: id, requisition: requisition, camera: camera, segmentID: row[2].int ?? 0, start: Date(micros: row[3].int ?? 0), end: Date(micros: row[4].int ?? 0),
                        objectClass: row[5].string ?? "", confidence: row[6].double ?? 0, colours: [], direction: "", box: [], descriptor: SQLiteCatalog.descriptor(row[7].bytes ?? [])))
            }
            return found
        }
    }

    static func descriptor(_ bytes: [UInt8]) -> [Float] {
        var values = [Float](repeating: 0, count: bytes.count / 4)
        bytes.withUnsafeBytes { raw in
            for i in values.indices { values[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
        }
        return values
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

    @discardableResult
    public func dropAnalysis(requisition: String) throws(CatalogError) -> Int {
        try locked { database throws(CatalogError) in
            try database.transaction { () throws(CatalogError) -> Int in
                let count = Int(try database.query("SELECT passages FROM passage_counts WHERE requisition = ?", [.text(requisition)]).first?.first?.int ?? 0)
                try database.query("DELETE FROM passage_thumbnails WHERE passage_id IN (SELECT id FROM passages WHERE requisition = ?)", [.text(requisition)])
                try database.query("DELETE FROM passage_colours WHERE requisition = ?", [.text(requisition)])
                try database.query("DELETE FROM passages WHERE requisition = ?", [.text(requisition)])
                try database.query("DELETE FROM analysed_segments WHERE requisition = ?", [.text(requisition)])
                return count
            }
        }
    }

    public func passageCount(requisition: String) throws(CatalogError) -> Int {
        try locked { database throws(CatalogError) in
            Int(try database.query("SELECT passages FROM passage_counts WHERE requisition = ?", [.text(requisition)]).first?.first?.int ?? 0)
        }
    }
}
