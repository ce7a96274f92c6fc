public import Foundation
import Media
import Synchronization

/// The catalog in one SQLite file (WAL journal: readers never wait for the recorder).
///
/// Times are microseconds since 1970 UTC; keyframe indexes are packed varints. One
/// connection per process, behind a lock; several processes (a recorder, a console, a
/// `vigie hold` command) share the file through SQLite's own locking.
public final class SQLiteCatalog: Catalog {
    /// The connection, the file it opened (device and inode), and when that was last compared
    /// with the path: a rebuild by the recorder replaces the file, and another process (a
    /// console, a hold command) must then reopen, not go on writing into the file set aside.
    private struct Connection {
        var database: SQLiteDatabase
        var file: (device: UInt64, inode: UInt64)?
        var checked: Double
    }
    private let database: Mutex<Connection>
    public let path: String

    /// 3: indexes of the segments a rebuild has not hashed yet and of the destructions under
    /// way (found without reading tables of millions of rows). 4: audit entries signed
    /// (signer, signature); named accounts. 5: requisitions, the transmission register, the
    /// requisition of an audit entry. 6: the object index of requisitions' analyses
    /// (passages, thumbnails, the segments analysed), deleted with their segments. 7: the
    /// index searched by camera, time and rank; each requisition's passage count and longest
    /// passage kept by triggers. 8: segments and gaps of a stream (main, or the sub stream
    /// recorded beside it), indexed by camera, stream and time.
    static let schemaVersion: Int64 = 8
    static let schema = """
        CREATE TABLE IF NOT EXISTS segments (
            id INTEGER PRIMARY KEY,
            camera TEXT NOT NULL,
            path TEXT NOT NULL UNIQUE,
            start_us INTEGER NOT NULL,
            end_us INTEGER NOT NULL,
            bytes INTEGER NOT NULL DEFAULT 0,
            sha256 TEXT,
            keyframes BLOB,
            state TEXT NOT NULL,
            skew_us INTEGER NOT NULL DEFAULT 0,
            stream TEXT NOT NULL DEFAULT 'main'
        );
        CREATE INDEX IF NOT EXISTS segments_by_camera_stream_time ON segments (camera, stream, start_us);
        CREATE INDEX IF NOT EXISTS segments_by_time ON segments (start_us);
        CREATE INDEX IF NOT EXISTS segments_open ON segments (state) WHERE state = 'open';
        CREATE INDEX IF NOT EXISTS segments_unhashed ON segments (start_us) WHERE state = 'rebuilt' AND sha256 IS NULL;
        CREATE TABLE IF NOT EXISTS gaps (
            id INTEGER PRIMARY KEY,
            camera TEXT NOT NULL,
            start_us INTEGER NOT NULL,
            end_us INTEGER NOT NULL,
            reason TEXT NOT NULL,
            stream TEXT NOT NULL DEFAULT 'main'
        );
        CREATE INDEX IF NOT EXISTS gaps_by_camera_stream_time ON gaps (camera, stream, start_us);
        CREATE TABLE IF NOT EXISTS holds (
            id INTEGER PRIMARY KEY,
            reference TEXT NOT NULL,
            cameras TEXT NOT NULL,
            start_us INTEGER NOT NULL,
            end_us INTEGER NOT NULL,
            reason TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            released_by TEXT,
            released_us INTEGER,
            requisition TEXT
        );
        CREATE TABLE IF NOT EXISTS destructions (
            id INTEGER PRIMARY KEY,
            camera TEXT NOT NULL,
            start_us INTEGER NOT NULL,
            end_us INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            path TEXT NOT NULL,
            segment_id INTEGER NOT NULL,
            reason TEXT NOT NULL,
            destroyed_us INTEGER
        );
        CREATE INDEX IF NOT EXISTS destructions_by_camera ON destructions (camera, start_us);
        CREATE INDEX IF NOT EXISTS destructions_pending ON destructions (segment_id) WHERE destroyed_us IS NULL;
        CREATE TABLE IF NOT EXISTS usage (
            camera TEXT PRIMARY KEY,
            bytes INTEGER NOT NULL,
            segments INTEGER NOT NULL
        );
        CREATE TRIGGER IF NOT EXISTS usage_insert AFTER INSERT ON segments BEGIN
            INSERT INTO usage (camera, bytes, segments) VALUES (NEW.camera, NEW.bytes, 1)
            ON CONFLICT (camera) DO UPDATE SET bytes = bytes + NEW.bytes, segments = segments + 1;
        END;
        CREATE TRIGGER IF NOT EXISTS usage_update AFTER UPDATE OF bytes ON segments BEGIN
            UPDATE usage SET bytes = bytes + NEW.bytes - OLD.bytes WHERE camera = NEW.camera;
        END;
        CREATE TRIGGER IF NOT EXISTS usage_delete AFTER DELETE ON segments BEGIN
            UPDATE usage SET bytes = bytes - OLD.bytes, segments = segments - 1 WHERE camera = OLD.camera;
        END;
        CREATE TABLE IF NOT EXISTS audit (
            sequence INTEGER PRIMARY KEY,
            at_us INTEGER NOT NULL,
            who TEXT NOT NULL,
            action TEXT NOT NULL,
            camera TEXT,
            from_us INTEGER,
            to_us INTEGER,
            reason TEXT,
            detail TEXT,
            previous_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            signer TEXT,
            signature TEXT,
            requisition TEXT
        );
        CREATE TABLE IF NOT EXISTS accounts (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            cameras TEXT NOT NULL,
            unix_user TEXT UNIQUE,
            password TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            expires_us INTEGER,
            disabled_by TEXT,
            disabled_us INTEGER,
            password_us INTEGER NOT NULL,
            last_login_us INTEGER
        );
        CREATE TABLE IF NOT EXISTS sessions (
            id INTEGER PRIMARY KEY,
            token_sha256 TEXT NOT NULL UNIQUE,
            account TEXT NOT NULL,
            address TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            expires_us INTEGER NOT NULL,
            revoked_us INTEGER,
            revoked_by TEXT
        );
        CREATE INDEX IF NOT EXISTS sessions_by_account ON sessions (account);
        CREATE TABLE IF NOT EXISTS requisitions (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            authority TEXT NOT NULL,
            basis TEXT NOT NULL,
            received_us INTEGER NOT NULL,
            deadline_us INTEGER,
            scopes TEXT NOT NULL,
            status TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            closed_by TEXT,
            closed_us INTEGER,
            released_by TEXT,
            released_us INTEGER
        );
        CREATE TABLE IF NOT EXISTS transmissions (
            id INTEGER PRIMARY KEY,
            requisition TEXT NOT NULL,
            at_us INTEGER NOT NULL,
            by TEXT NOT NULL,
            recipient TEXT NOT NULL,
            medium TEXT NOT NULL,
            cameras TEXT NOT NULL,
            start_us INTEGER NOT NULL,
            end_us INTEGER NOT NULL,
            files INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            manifest_sha256 TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS analysed_segments (
            requisition TEXT NOT NULL,
            segment_id INTEGER NOT NULL,
            analysed_us INTEGER NOT NULL,
            PRIMARY KEY (requisition, segment_id)
        );
        CREATE INDEX IF NOT EXISTS analysed_by_segment ON analysed_segments (segment_id);
        CREATE TABLE IF NOT EXISTS passages (
            id INTEGER PRIMARY KEY,
            requisition TEXT NOT NULL,
            camera TEXT NOT NULL,
            segment_id INTEGER NOT NULL,
            start_us INTEGER NOT NULL,
            end_us INTEGER NOT NULL,
            class TEXT NOT NULL,
            confidence REAL NOT NULL,
            colours TEXT NOT NULL,
            direction TEXT NOT NULL,
            box TEXT NOT NULL,
            descriptor BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS passages_by_requisition ON passages (requisition, class, confidence DESC);
        CREATE TABLE IF NOT EXISTS passage_colours (
            passage_id INTEGER NOT NULL,
            requisition TEXT NOT NULL,
            class TEXT NOT NULL,
            colour TEXT NOT NULL,
            score REAL NOT NULL,
            start_us INTEGER NOT NULL,
            camera TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS passage_colours_ranked ON passage_colours (requisition, colour, class, score DESC);
        CREATE INDEX IF NOT EXISTS passage_colours_by_passage ON passage_colours (passage_id);
        CREATE INDEX IF NOT EXISTS passages_by_segment ON passages (segment_id);
        CREATE INDEX IF NOT EXISTS passages_by_time ON passages (requisition, start_us);
        CREATE INDEX IF NOT EXISTS passages_by_camera ON passages (requisition, camera, start_us);
        CREATE INDEX IF NOT EXISTS passages_by_confidence ON passages (requisition, confidence DESC);
        CREATE INDEX IF NOT EXISTS passage_colours_by_score ON passage_colours (requisition, colour, score DESC);
        CREATE INDEX IF NOT EXISTS passage_colours_by_camera ON passage_colours (requisition, colour, camera, start_us);
        CREATE TABLE IF NOT EXISTS passage_thumbnails (
            passage_id INTEGER PRIMARY KEY,
            image BLOB NOT NULL
        );
        CREATE TRIGGER IF NOT EXISTS index_dies_with_footage AFTER DELETE ON segments BEGIN
            DELETE FROM passage_thumbnails WHERE passage_id IN (SELECT id FROM passages WHERE segment_id = OLD.id);
            DELETE FROM passage_colours WHERE passage_id IN (SELECT id FROM passages WHERE segment_id = OLD.id);
            DELETE FROM passages WHERE segment_id = OLD.id;
            DELETE FROM analysed_segments WHERE segment_id = OLD.id;
        END;
        CREATE TABLE IF NOT EXISTS passage_counts (
            requisition TEXT PRIMARY KEY,
            passages INTEGER NOT NULL,
            longest_us INTEGER NOT NULL
        );
        CREATE TRIGGER IF NOT EXISTS passage_counted AFTER INSERT ON passages BEGIN
            INSERT INTO passage_counts (requisition, passages, longest_us) VALUES (NEW.requisition, 1, NEW.end_us - NEW.start_us)
            ON CONFLICT (requisition) DO UPDATE SET passages = passages + 1, longest_us = max(longest_us, excluded.longest_us);
        END;
        CREATE TRIGGER IF NOT EXISTS passage_uncounted AFTER DELETE ON passages BEGIN
            UPDATE passage_counts SET passages = passages - 1 WHERE requisition = OLD.requisition;
        END;
        """

    /// Opens the catalog at `path`: for writing (created when missing, its schema brought
    /// up to date, its reserve kept: the recorder, hold commands), or for reading only
    /// (nothing written, not even on a full disk or read-only media: listing, verifying,
    /// auditing). Throws `.noCatalog` when reading a file that does not exist, `.damaged`
    /// when the file is not a sound SQLite database.
    public init(path: String, access: CatalogAccess = .readWrite) throws(CatalogError) {
        self.path = path
        self.access = access
        switch access {
        case .readWrite:
            let database = try SQLiteDatabase(path: path)
            try SQLiteCatalog.prepareForWriting(database, path: path)
            self.database = Mutex(Connection(database: database, file: SQLiteCatalog.identity(path), checked: MonotonicClock.seconds()))
            readNote = nil
        case .readOnly:
            guard FileManager.default.fileExists(atPath: path) else {
                throw CatalogError("no catalog at \(path): nothing was recorded in this folder", kind: .noCatalog)
            }
            var note: String? = nil
            var database = try SQLiteDatabase(path: path, access: .readOnly)
            do {
                try SQLiteCatalog.checkSchema(database, path: path)
            } catch where error.kind == .cannotOpen || error.kind == .readOnly {
                // Read-only media: SQLite cannot make the write-ahead log's index beside the file.
                database = try SQLiteDatabase(path: path, access: .immutable)
                try SQLiteCatalog.checkSchema(database, path: path)
                // The log is kept after a clean stop; changes in it not yet in the file show by its
                // being written after the file was (a checkpoint writes the file last).
                let attributes = { (file: String) in try? FileManager.default.attributesOfItem(atPath: file) }
                let log = attributes(path + "-wal")
                if let logDate = log?[.modificationDate] as? Date, let fileDate = attributes(path)?[.modificationDate] as? Date,
                    (log?[.size] as? Int ?? 0) > 32, logDate > fileDate
                {
                    note = "read-only media: the catalog is read without its write-ahead log, so its last changes may not show"
                }
            }
            self.database = Mutex(Connection(database: database, file: SQLiteCatalog.identity(path), checked: MonotonicClock.seconds()))
            readNote = note
        }
    }

    /// Whether this connection may write.
    public let access: CatalogAccess
    /// Said to the reader when the catalog could only be read in part (read-only media
    /// holding an unfinished write-ahead log).
    public let readNote: String?

    private static func checkSchema(_ database: SQLiteDatabase, path: String) throws(CatalogError) {
        let version = try database.query("PRAGMA user_version").first?.first?.int ?? 0
        if version > SQLiteCatalog.schemaVersion {
            throw CatalogError(
                "catalog \(path) was written by a newer Vigie (schema \(version), this one knows \(SQLiteCatalog.schemaVersion))", kind: .newerSchema)
        }
        // Read the schema: a file that is not a database (or a damaged first page) fails here.
        _ = try database.query("SELECT COUNT(*) FROM sqlite_schema")
    }

    private static func prepareForWriting(_ database: SQLiteDatabase, path: String) throws(CatalogError) {
        try database.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
        // The log file keeps its blocks between checkpoints and across restarts (part of the
        // reserve): it is never truncated (no journal_size_limit) nor deleted at close.
        database.persistWriteAheadLog()
        // A current schema needs no write (a full disk must not stop the catalog from opening).
        let current = try database.query("PRAGMA user_version").first?.first?.int ?? 0
        let tables = try database.query("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('segments', 'gaps', 'holds', 'destructions', 'usage', 'audit', 'accounts', 'sessions', 'requisitions', 'transmissions', 'analysed_segments', 'passages', 'passage_colours', 'passage_thumbnails', 'passage_counts')")
            .first?.first?.int ?? 0
        if current == SQLiteCatalog.schemaVersion && tables == 15 { return }
        try database.transaction { () throws(CatalogError) in
            if current >= 1 && current < 8 {
                // Schema 8: a stream per segment and gap (those before are the main stream's), before
                // the schema's indexes on it are made.
                for table in ["segments", "gaps"] {
                    let columns = try database.query("SELECT name FROM pragma_table_info('\(table)')").compactMap { $0.first?.string }
                    if !columns.isEmpty && !columns.contains("stream") {
                        try database.execute("ALTER TABLE \(table) ADD COLUMN stream TEXT NOT NULL DEFAULT 'main'")
                    }
                }
                try database.execute("DROP INDEX IF EXISTS segments_by_camera_time; DROP INDEX IF EXISTS gaps_by_camera_time")
            }
            try database.execute(SQLiteCatalog.schema)
            let version = try database.query("PRAGMA user_version").first?.first?.int ?? 0
            if version > SQLiteCatalog.schemaVersion {
                throw CatalogError(
                    "catalog \(path) was written by a newer Vigie (schema \(version), this one knows \(SQLiteCatalog.schemaVersion))",
                    kind: .newerSchema)
            }
            if version >= 1 && version < 4 {
                // Schema 4 signs audit entries; those written before stay unsigned.
                let columns = try database.query("SELECT name FROM pragma_table_info('audit')").compactMap { $0.first?.string }
                if !columns.contains("signer") { try database.execute("ALTER TABLE audit ADD COLUMN signer TEXT; ALTER TABLE audit ADD COLUMN signature TEXT") }
            }
            if version >= 1 && version < 5 {
                let columns = try database.query("SELECT name FROM pragma_table_info('audit')").compactMap { $0.first?.string }
                if !columns.contains("requisition") { try database.execute("ALTER TABLE audit ADD COLUMN requisition TEXT") }
                let holdColumns = try database.query("SELECT name FROM pragma_table_info('holds')").compactMap { $0.first?.string }
                if !holdColumns.contains("requisition") { try database.execute("ALTER TABLE holds ADD COLUMN requisition TEXT") }
            }
            if version >= 1 && version < 7 {
                // Schema 7 counts each requisition's passages and keeps the longest (triggers) instead of reading millions of rows.
                try database.execute(
                    "DELETE FROM passage_counts; INSERT INTO passage_counts (requisition, passages, longest_us) SELECT requisition, COUNT(*), MAX(end_us - start_us) FROM passages GROUP BY requisition")
            }
            if version == 1 {
                // Schema 2 keeps per-camera totals up to date (triggers) instead of summing millions of rows.
                try database.execute(
                    "DELETE FROM usage; INSERT INTO usage (camera, bytes, segments) SELECT camera, SUM(bytes), COUNT(*) FROM segments GROUP BY camera")
            }
            try database.execute("PRAGMA user_version = \(SQLiteCatalog.schemaVersion)")
        }
    }

    /// The connection, under its lock (reopened when the file was replaced). Internal: the
    /// catalog's extensions in other files use it.
    @discardableResult
    func locked<T: Sendable>(_ body: (SQLiteDatabase) throws(CatalogError) -> T) throws(CatalogError) -> T {
        try database.withLock { (connection: inout Connection) throws(CatalogError) -> T in
            let now = MonotonicClock.seconds()
            if now - connection.checked >= 1 {
                connection.checked = now
                if let file = SQLiteCatalog.identity(path), let opened = connection.file, file != opened {
                    // The file was replaced (a rebuilt catalog): the new one is the catalog now.
                    let reopened = try SQLiteDatabase(path: path, access: access == .readWrite ? .readWrite : .readOnly)
                    if access == .readWrite { try SQLiteCatalog.prepareForWriting(reopened, path: path) }
                    connection.database = reopened
                    connection.file = file
                    streamColumn.store(0, ordering: .relaxed)
                }
            }
            return try body(connection.database)
        }
    }

    /// The device and inode of the file at `path`.
    static func identity(_ path: String) -> (device: UInt64, inode: UInt64)? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return (UInt64(status.st_dev), UInt64(status.st_ino))
    }

    // MARK: Storage housekeeping

    /// Room the catalog alone may use on a full disk, in bytes: free pages inside its own
    /// file (SQLite fills them before it grows the file) and a write-ahead log whose blocks
    /// are kept. Video never takes them, so the catalog commits when the disk is full.
    public func reserveBytes() throws(CatalogError) -> Int64 {
        try locked { database throws(CatalogError) in
            let free = try database.query("PRAGMA freelist_count").first?.first?.int ?? 0
            let page = try database.query("PRAGMA page_size").first?.first?.int ?? 4096
            return free * page
        }
    }

    /// Grows the reserve to `bytes` of free pages and a write-ahead log of `logBytes` whose
    /// blocks are kept (checkpointed at half that): blobs are written in transactions of the
    /// log's size, checkpointed into the file, then deleted, so their pages stay in the file
    /// as free pages and the log keeps the size of one of them.
    @discardableResult
    public func ensureReserve(bytes: Int64, logBytes: Int64) throws(CatalogError) -> Int64 {
        try locked { database throws(CatalogError) in
            let page = try database.query("PRAGMA page_size").first?.first?.int ?? 4096
            try database.execute("PRAGMA wal_autocheckpoint = \(max(16, logBytes / page / 2))")
        }
        let have = try reserveBytes()
        guard have < bytes else { return have }
        try locked { database throws(CatalogError) in
            try database.execute("CREATE TABLE IF NOT EXISTS reserve (filler BLOB)")
            var missing = max(bytes - have, 0)
            // The first blob also grows the log to its kept size.
            var chunk = max(logBytes * 3 / 4, 64 << 10)
            repeat {
                let size = min(chunk, max(missing, logBytes * 3 / 4))
                try database.query("INSERT INTO reserve (filler) VALUES (zeroblob(?))", [.integer(size)])
                try database.execute("PRAGMA wal_checkpoint(PASSIVE)")
                missing -= size
                chunk = max(logBytes * 3 / 4, 64 << 10)
            } while missing > 0
            try database.execute("DELETE FROM reserve")
            try database.execute("PRAGMA wal_checkpoint(PASSIVE)")
        }
        return try reserveBytes()
    }

    /// Bytes the catalog's files take on disk (the database and its write-ahead log).
    public var fileBytes: Int64 {
        [path, path + "-wal"].reduce(Int64(0)) { total, file in
            total + Int64((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int ?? 0)
        }
    }

    /// SQLite's structural check of the whole file (`PRAGMA quick_check`), through a
    /// read-only connection of its own (the catalog is not held while it reads the whole
    /// file): empty when sound.
    public func integrityProblems(limit: Int = 20, stop: @escaping @Sendable () -> Bool = { false }) throws(CatalogError) -> [String] {
        let reader = access == .readWrite ? try SQLiteDatabase(path: path, access: .readOnly) : nil
        let check = { (database: SQLiteDatabase) throws(CatalogError) -> [String] in
            let rows = try database.query("PRAGMA quick_check(\(limit))").compactMap { $0.first?.string }
            return rows == ["ok"] ? [] : rows
        }
        guard let reader else { return try locked { database throws(CatalogError) in try check(database) } }
        // A watcher interrupts the check when `stop` says so (the recorder stopping).
        let box = InterruptBox(reader)
        let done = Atomic<Bool>(false)
        let watcher = Thread {
            while !done.load(ordering: .acquiring) {
                if stop() {
                    box.database.interrupt()
                    return
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        watcher.start()
        defer { done.store(true, ordering: .releasing) }
        return try check(reader)
    }

    /// Writes a consistent copy of the catalog to `destination` (a temporary file renamed
    /// once whole and synced), through a connection of its own: the recorder's writes are
    /// not held up while it runs.
    public func backup(to destination: String) throws(CatalogError) {
        let temporary = destination + ".tmp"
        unlink(temporary)
        do {
            let source = try SQLiteDatabase(path: path, access: .readOnly)
            let copy = try SQLiteDatabase(path: temporary)
            try source.copy(into: copy)
            try copy.execute("PRAGMA journal_mode=DELETE")
        }
        let descriptor = open(temporary, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
        // A copy that is not whole replaces nothing; the one before it stays as a second generation.
        if let problem = RecordingStore.headerProblem(temporary) {
            unlink(temporary)
            throw CatalogError("the catalog backup came out damaged (\(problem)): the previous backups are kept", kind: .damaged)
        }
        let previous = destination.hasSuffix(".sqlite") ? String(destination.dropLast(7)) + ".1.sqlite" : destination + ".1"
        if FileManager.default.fileExists(atPath: destination) { rename(destination, previous) }
        guard rename(temporary, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CatalogError("cannot rename the catalog backup to \(destination): \(reason)", kind: .io)
        }
    }

    /// Copies the database file `source` (a backup) to `destination`, page by page through
    /// SQLite, after checking it is sound; throws `.damaged` otherwise.
    public static func restore(backup source: String, to destination: String) throws(CatalogError) {
        let from = try SQLiteDatabase(path: source, access: .readOnly)
        try checkSchema(from, path: source)
        let problems = try from.query("PRAGMA quick_check(5)").compactMap { $0.first?.string }
        guard problems == ["ok"] else {
            throw CatalogError("the backup \(source) is damaged too: \(problems.joined(separator: "; "))", kind: .damaged)
        }
        let to = try SQLiteDatabase(path: destination)
        try from.copy(into: to)
    }

    // MARK: Segments

    static let segmentColumns = "id, camera, path, start_us, end_us, bytes, sha256, keyframes, state, skew_us, stream"

    static func segment(_ row: [SQLValue]) -> SegmentRecord {
        SegmentRecord(
            id: row[0].int ?? 0, camera: row[1].string ?? "", path: row[2].string ?? "", start: Date(micros: row[3].int ?? 0),
            end: Date(micros: row[4].int ?? 0), bytes: row[5].int ?? 0, sha256: row[6].string,
            keyframes: [KeyframeMark](packed: row[7].bytes ?? []), state: SegmentState(rawValue: row[8].string ?? "") ?? .closed,
            skew: Double(row[9].int ?? 0) / 1_000_000, stream: row.count > 10 && row[10].string == "sub" ? .sub : .main)
    }

    /// Whether the file's segments and gaps have a stream (a catalog of an earlier schema, read
    /// without upgrading it, holds the main stream only): 0 not known yet, 1 yes, 2 no.
    private let streamColumn = Atomic<Int>(0)
    /// The SQL that reads a row's stream: the column, or 'main' in a catalog of an earlier schema.
    func streamExpression(_ database: SQLiteDatabase) throws(CatalogError) -> String {
        var known = streamColumn.load(ordering: .relaxed)
        if known == 0 {
            let columns = try database.query("SELECT name FROM pragma_table_info('segments')").compactMap { $0.first?.string }
            known = columns.contains("stream") || columns.isEmpty ? 1 : 2
            streamColumn.store(known, ordering: .relaxed)
        }
        return known == 1 ? "stream" : "'main'"
    }
    /// The segment columns as this file has them.
    func segmentSelect(_ database: SQLiteDatabase) throws(CatalogError) -> String {
        try streamExpression(database) == "stream" ? SQLiteCatalog.segmentColumns : SQLiteCatalog.segmentColumns.replacingOccurrences(of: ", stream", with: ", 'main'")
    }

    public func insertSegment(_ segment: SegmentRecord) throws(CatalogError) -> Int64 {
        try locked { database throws(CatalogError) in
            try SQLiteCatalog.insert(segment, into: database)
            return database.lastInsertedRow
        }
    }

    private static func insert(_ segment: SegmentRecord, into database: SQLiteDatabase) throws(CatalogError) {
        try database.query(
            "INSERT INTO segments (camera, path, start_us, end_us, bytes, sha256, keyframes, state, skew_us, stream) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                .text(segment.camera), .text(segment.path), .integer(segment.start.micros), .integer(segment.end.micros),
                .integer(segment.bytes), segment.sha256.sql, .blob(segment.keyframes.packed), .text(segment.state.rawValue),
                .integer(Int64(segment.skew * 1_000_000)), .text(segment.stream.rawValue),
            ])
    }

    public func insertSegments(_ segments: [SegmentRecord]) throws(CatalogError) {
        try locked { database throws(CatalogError) in
            try database.transaction { () throws(CatalogError) in
                for segment in segments { try SQLiteCatalog.insert(segment, into: database) }
            }
        }
    }

    public func updateSegment(_ segment: SegmentRecord) throws(CatalogError) {
        try locked { database throws(CatalogError) in
            try database.query(
                "UPDATE segments SET start_us=?, end_us=?, bytes=?, sha256=?, keyframes=?, state=?, skew_us=? WHERE id=?",
                [
                    .integer(segment.start.micros), .integer(segment.end.micros), .integer(segment.bytes), segment.sha256.sql,
                    .blob(segment.keyframes.packed), .text(segment.state.rawValue), .integer(Int64(segment.skew * 1_000_000)),
                    .integer(segment.id),
                ])
        }
    }

    public func removeSegment(id: Int64) throws(CatalogError) {
        try locked { database throws(CatalogError) in try database.query("DELETE FROM segments WHERE id=?", [.integer(id)]) }
    }

    public func segments(camera: String?, stream: StreamChoice?, from: Date?, to: Date?) throws(CatalogError) -> [SegmentRecord] {
        var conditions: [String] = [], parameters: [SQLValue] = []
        if let camera {
            conditions.append("camera = ?")
            parameters.append(.text(camera))
        }
        if let stream {
            conditions.append("STREAM = ?")
            parameters.append(.text(stream.rawValue))
        }
        if let from {
            conditions.append("end_us > ?")
            parameters.append(.integer(from.micros))
        }
        if let to {
            conditions.append("start_us < ?")
            parameters.append(.integer(to.micros))
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try locked { database throws(CatalogError) in
            let stream = try streamExpression(database)
            return try database.query(
                "SELECT \(try segmentSelect(database)) FROM segments\(filter.replacingOccurrences(of: "STREAM", with: stream)) ORDER BY start_us, camera",
                parameters
            ).map(SQLiteCatalog.segment)
        }
    }

    public func segment(camera: String, stream: StreamChoice, containingOrAfter time: Date) throws(CatalogError) -> SegmentRecord? {
        try locked { database throws(CatalogError) in
            let columns = try segmentSelect(database), filter = "camera = ? AND \(try streamExpression(database)) = ?"
            // The last segment starting at or before the time, if it still runs then; else the next one.
            if let row = try database.query(
                "SELECT \(columns) FROM segments WHERE \(filter) AND start_us <= ? ORDER BY start_us DESC LIMIT 1",
                [.text(camera), .text(stream.rawValue), .integer(time.micros)]
            ).first, (row[4].int ?? 0) > time.micros {
                return SQLiteCatalog.segment(row)
            }
            return try database.query(
                "SELECT \(columns) FROM segments WHERE \(filter) AND start_us > ? ORDER BY start_us LIMIT 1",
                [.text(camera), .text(stream.rawValue), .integer(time.micros)]
            ).first.map(SQLiteCatalog.segment)
        }
    }

    public func segment(camera: String, stream: StreamChoice, before time: Date) throws(CatalogError) -> SegmentRecord? {
        try locked { database throws(CatalogError) in
            try database.query(
                "SELECT \(try segmentSelect(database)) FROM segments WHERE camera = ? AND \(try streamExpression(database)) = ? AND start_us < ? ORDER BY start_us DESC LIMIT 1",
                [.text(camera), .text(stream.rawValue), .integer(time.micros)]
            ).first.map(SQLiteCatalog.segment)
        }
    }

    public func segmentPaths(camera: String) throws(CatalogError) -> Set<String> {
        try locked { database throws(CatalogError) in
            var paths = Set<String>()
            // A range of the paths' own unique index ("CAMERA/" up to "CAMERA0"): the table is not read.
            try database.each("SELECT path FROM segments WHERE path >= ? AND path < ?", [.text(camera + "/"), .text(camera + "0")]) { row in
                if let path = row[0].string { paths.insert(path) }
            }
            return paths
        }
    }

    public func segmentExists(path: String) throws(CatalogError) -> Bool {
        try locked { database throws(CatalogError) in
            try !database.query("SELECT 1 FROM segments WHERE path = ?", [.text(path)]).isEmpty
        }
    }

    public func openSegments() throws(CatalogError) -> [SegmentRecord] {
        try locked { database throws(CatalogError) in
            try database.query("SELECT \(try segmentSelect(database)) FROM segments WHERE state = 'open' ORDER BY start_us")
                .map(SQLiteCatalog.segment)
        }
    }

    public func oldestSegments(limit: Int, after: (start: Date, id: Int64)?) throws(CatalogError) -> [SegmentRecord] {
        // Pages by (start, id) through the time index: a page costs its own rows, whatever came before.
        return try locked { database throws(CatalogError) in
            let columns = try segmentSelect(database).replacingOccurrences(of: "keyframes", with: "NULL")
            if let after {
                return try database.query(
                    "SELECT \(columns) FROM segments WHERE state != 'open' AND (start_us, id) > (?, ?) ORDER BY start_us, id LIMIT ?",
                    [.integer(after.start.micros), .integer(after.id), .integer(Int64(limit))]
                ).map(SQLiteCatalog.segment)
            }
            return try database.query(
                "SELECT \(columns) FROM segments WHERE state != 'open' ORDER BY start_us, id LIMIT ?", [.integer(Int64(limit))]
            ).map(SQLiteCatalog.segment)
        }
    }

    public func segmentsToIndex(limit: Int) throws(CatalogError) -> [SegmentRecord] {
        try locked { database throws(CatalogError) in
            try database.query(
                "SELECT \(try segmentSelect(database)) FROM segments WHERE state = 'rebuilt' AND sha256 IS NULL ORDER BY start_us LIMIT ?",
                [.integer(Int64(limit))]
            ).map(SQLiteCatalog.segment)
        }
    }

    public func usage() throws(CatalogError) -> [StorageUsage] {
        try locked { database throws(CatalogError) in
            // Totals (both streams) from the trigger-kept table; the main stream's oldest and newest
            // through the (camera, stream, start) index.
            let stream = try streamExpression(database)
            return try database.query(
                """
                SELECT u.camera, u.bytes, u.segments,
                    (SELECT start_us FROM segments s WHERE s.camera = u.camera AND \(stream) = 'main' ORDER BY start_us LIMIT 1),
                    (SELECT end_us FROM segments s WHERE s.camera = u.camera AND \(stream) = 'main' ORDER BY start_us DESC LIMIT 1)
                FROM usage u WHERE u.segments > 0 ORDER BY u.camera
                """)
                .map {
                    StorageUsage(
                        camera: $0[0].string ?? "", bytes: $0[1].int ?? 0, segments: Int($0[2].int ?? 0),
                        oldest: $0[3].int.map(Date.init(micros:)), newest: $0[4].int.map(Date.init(micros:)))
                }
        }
    }

    // MARK: Gaps

    @discardableResult
    public func addGap(_ gap: GapRecord) throws(CatalogError) -> Int64 {
        try locked { database throws(CatalogError) in
            try database.query(
                "INSERT INTO gaps (camera, start_us, end_us, reason, stream) VALUES (?,?,?,?,?)",
                [.text(gap.camera), .integer(gap.start.micros), .integer(gap.end.micros), .text(gap.reason), .text(gap.stream.rawValue)])
            return database.lastInsertedRow
        }
    }

    public func updateGap(id: Int64, end: Date) throws(CatalogError) {
        try locked { database throws(CatalogError) in
            try database.query("UPDATE gaps SET end_us = ? WHERE id = ?", [.integer(end.micros), .integer(id)])
        }
    }

    public func removeGap(id: Int64) throws(CatalogError) {
        try locked { database throws(CatalogError) in try database.query("DELETE FROM gaps WHERE id = ?", [.integer(id)]) }
    }

    public func lastCovered(camera: String, stream: StreamChoice) throws(CatalogError) -> Date? {
        try locked { database throws(CatalogError) in
            let column = try streamExpression(database)
            let segment = try database.query(
                "SELECT end_us FROM segments WHERE camera = ? AND \(column) = ? ORDER BY start_us DESC LIMIT 1", [.text(camera), .text(stream.rawValue)]
            ).first?.first?.int
            let gap = try database.query(
                "SELECT MAX(end_us) FROM gaps WHERE camera = ? AND \(column) = ?", [.text(camera), .text(stream.rawValue)]
            ).first?.first?.int
            guard let latest = [segment, gap].compactMap({ $0 }).max() else { return nil }
            return Date(micros: latest)
        }
    }

    public func gaps(camera: String, stream: StreamChoice, from: Date, to: Date) throws(CatalogError) -> [GapRecord] {
        try locked { database throws(CatalogError) in
            let column = try streamExpression(database)
            return try database.query(
                "SELECT camera, start_us, end_us, reason FROM gaps WHERE camera = ? AND \(column) = ? AND end_us > ? AND start_us < ? ORDER BY start_us",
                [.text(camera), .text(stream.rawValue), .integer(from.micros), .integer(to.micros)]
            ).map {
                GapRecord(
                    camera: $0[0].string ?? "", start: Date(micros: $0[1].int ?? 0), end: Date(micros: $0[2].int ?? 0), reason: $0[3].string ?? "",
                    stream: stream)
            }
        }
    }

    // MARK: Holds

    static func hold(_ row: [SQLValue]) -> Hold {
        Hold(
            id: row[0].int ?? 0, reference: row[1].string ?? "",
            cameras: (row[2].string ?? "").split(separator: ",").map(String.init), start: Date(micros: row[3].int ?? 0),
            end: Date(micros: row[4].int ?? 0), reason: row[5].string ?? "", createdBy: row[6].string ?? "",
            createdAt: Date(micros: row[7].int ?? 0), releasedBy: row[8].string, releasedAt: row[9].int.map(Date.init(micros:)),
            requisition: row.count > 10 ? row[10].string : nil)
    }

    static let holdColumns = "id, reference, cameras, start_us, end_us, reason, created_by, created_us, released_by, released_us, requisition"
    /// The hold columns a catalog has (one of an earlier schema, read without upgrading it, has no requisition).
    func holdSelect(_ database: SQLiteDatabase) throws(CatalogError) -> String {
        let columns = try database.query("SELECT name FROM pragma_table_info('holds')").compactMap { $0.first?.string }
        return columns.contains("requisition") ? SQLiteCatalog.holdColumns : SQLiteCatalog.holdColumns.replacingOccurrences(of: ", requisition", with: ", NULL")
    }

    public func addHold(_ hold: Hold) throws(CatalogError) -> Hold {
        try locked { database throws(CatalogError) in try insertHold(database, hold) }
    }

    /// Inserts a hold on the locked connection (inside a caller's transaction, for a requisition).
    func insertHold(_ database: SQLiteDatabase, _ hold: Hold) throws(CatalogError) -> Hold {
        try database.query(
            "INSERT INTO holds (reference, cameras, start_us, end_us, reason, created_by, created_us, requisition) VALUES (?,?,?,?,?,?,?,?)",
            [
                .text(hold.reference), .text(hold.cameras.joined(separator: ",")), .integer(hold.start.micros),
                .integer(hold.end.micros), .text(hold.reason), .text(hold.createdBy), .integer(hold.createdAt.micros), hold.requisition.sql,
            ])
        var stored = hold
        stored.id = database.lastInsertedRow
        return stored
    }

    public func holds(includeReleased: Bool) throws(CatalogError) -> [Hold] {
        try locked { database throws(CatalogError) in
            try database.query(
                "SELECT \(try holdSelect(database)) FROM holds\(includeReleased ? "" : " WHERE released_us IS NULL") ORDER BY id"
            ).map(SQLiteCatalog.hold)
        }
    }

    public func releaseHold(id: Int64, by who: String, at time: Date) throws(CatalogError) -> Hold? {
        try locked { database throws(CatalogError) in
            try database.query(
                "UPDATE holds SET released_by = ?, released_us = ? WHERE id = ? AND released_us IS NULL",
                [.text(who), .integer(time.micros), .integer(id)])
            guard database.changes == 1 else { return nil }
            return try database.query("SELECT \(SQLiteCatalog.holdColumns) FROM holds WHERE id = ?", [.integer(id)]).first
                .map(SQLiteCatalog.hold)
        }
    }

    // MARK: Destruction register

    public func beginDestruction(_ destruction: Destruction, segmentID: Int64) throws(CatalogError) -> Int64? {
        try locked { database throws(CatalogError) in
            try database.query(
                """
                INSERT INTO destructions (camera, start_us, end_us, bytes, path, segment_id, reason)
                SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
                WHERE NOT EXISTS (SELECT 1 FROM destructions WHERE ?6 != 0 AND segment_id = ?6 AND destroyed_us IS NULL)
                AND NOT EXISTS (SELECT 1 FROM holds WHERE released_us IS NULL AND start_us < ?3 AND end_us > ?2
                    AND (cameras = '' OR instr(',' || cameras || ',', ',' || ?1 || ',') > 0))
                """,
                [
                    .text(destruction.camera), .integer(destruction.start.micros), .integer(destruction.end.micros),
                    .integer(destruction.bytes), .text(destruction.path), .integer(segmentID), .text(destruction.reason),
                ])
            return database.changes == 1 ? database.lastInsertedRow : nil
        }
    }

    public func abortDestruction(id: Int64) throws(CatalogError) {
        try locked { database throws(CatalogError) in
            try database.query("DELETE FROM destructions WHERE id = ? AND destroyed_us IS NULL", [.integer(id)])
        }
    }

    public func completeDestruction(id: Int64, segmentID: Int64, at time: Date) throws(CatalogError) {
        try locked { database throws(CatalogError) in
            try database.transaction { () throws(CatalogError) in
                try database.query("DELETE FROM segments WHERE id = ?", [.integer(segmentID)])
                try database.query("UPDATE destructions SET destroyed_us = ? WHERE id = ?", [.integer(time.micros), .integer(id)])
            }
        }
    }

    static func destruction(_ row: [SQLValue]) -> Destruction {
        Destruction(
            camera: row[0].string ?? "", start: Date(micros: row[1].int ?? 0), end: Date(micros: row[2].int ?? 0), bytes: row[3].int ?? 0,
            path: row[4].string ?? "", destroyedAt: row[5].int.map(Date.init(micros:)), reason: row[6].string ?? "")
    }

    public func pendingDestructions() throws(CatalogError) -> [(id: Int64, segmentID: Int64, destruction: Destruction)] {
        try locked { database throws(CatalogError) in
            try database.query(
                "SELECT camera, start_us, end_us, bytes, path, destroyed_us, reason, id, segment_id FROM destructions WHERE destroyed_us IS NULL"
            ).map { ($0[7].int ?? 0, $0[8].int ?? 0, SQLiteCatalog.destruction($0)) }
        }
    }

    public func destructions(camera: String?, since: Date?) throws(CatalogError) -> [Destruction] {
        try locked { database throws(CatalogError) in
            try database.query(
                "SELECT camera, start_us, end_us, bytes, path, destroyed_us, reason FROM destructions WHERE (?1 IS NULL OR camera = ?1) AND (?2 IS NULL OR destroyed_us >= ?2) ORDER BY start_us",
                [camera.sql, since.map { .integer($0.micros) } ?? .null]
            ).map(SQLiteCatalog.destruction)
        }
    }
}

/// A connection handed to the thread that may interrupt it; `sqlite3_interrupt` is the one
/// call SQLite allows from another thread, and the connection outlives the watcher's use.
private final class InterruptBox: @unchecked Sendable {  // only `interrupt()` is called from the watcher
    let database: SQLiteDatabase
    init(_ database: SQLiteDatabase) { self.database = database }
}
