import CSQLite
import Foundation

/// What went wrong in the catalog or the storage around it: a kind the recorder reacts
/// to (a full disk, a damaged file, read-only media), and a message naming the operation,
/// the file and SQLite's own words.
public struct CatalogError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is, so callers can react (free space, rebuild, read only).
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable { case storageFull, damaged, readOnly, cannotOpen, busy, newerSchema, noCatalog, locked, io, conflict, other }
        private let value: Value
        /// The disk (or the catalog's file system) has no room for the change.
        public static let storageFull = Kind(value: .storageFull)
        /// The catalog file is damaged or is not a database at all.
        public static let damaged = Kind(value: .damaged)
        /// The storage is read-only (an evidence copy on write-protected media).
        public static let readOnly = Kind(value: .readOnly)
        /// The file cannot be opened (permissions, missing folder).
        public static let cannotOpen = Kind(value: .cannotOpen)
        /// Another process held the catalog longer than the wait allows.
        public static let busy = Kind(value: .busy)
        /// The catalog was written by a newer Vigie.
        public static let newerSchema = Kind(value: .newerSchema)
        /// The storage folder has no catalog (nothing was recorded there).
        public static let noCatalog = Kind(value: .noCatalog)
        /// Another recorder records into the storage folder.
        public static let locked = Kind(value: .locked)
        /// A file-system error outside SQLite.
        public static let io = Kind(value: .io)
        /// The change contradicts what is recorded (an account that exists, a Unix user already mapped).
        public static let conflict = Kind(value: .conflict)
        public static let other = Kind(value: .other)
        public var description: String { "\(value)" }

        /// The kind of an SQLite result code (primary or extended).
        static func sqlite(_ code: Int32) -> Kind {
            switch code & 0xFF {
            case SQLITE_FULL: return .storageFull
            case SQLITE_CORRUPT, SQLITE_NOTADB: return .damaged
            case SQLITE_READONLY: return .readOnly
            case SQLITE_CANTOPEN: return .cannotOpen
            case SQLITE_BUSY, SQLITE_LOCKED: return .busy
            case SQLITE_IOERR: return .io
            default: return .other
            }
        }
    }

    public let kind: Kind
    public let message: String
    public init(_ message: String, kind: Kind = .other) {
        self.message = message
        self.kind = kind
    }
    public var description: String { message }
}

/// A value bound to a statement's parameter or read from a column.
enum SQLValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// One SQLite connection. Owns its `sqlite3` handle (closed in deinit) and the statements
/// it prepared (finalized before the handle). Used under its owner's lock: not Sendable.
final class SQLiteDatabase {
    private var handle: OpaquePointer?
    let path: String

    /// How a connection opens its file.
    enum Access {
        /// Reads and writes, creating the file when missing.
        case readWrite
        /// Reads only; the write-ahead log is read when its files exist or can be made.
        case readOnly
        /// Reads only, the file taken as unchanging (read-only media where SQLite cannot
        /// make the write-ahead log's index; a clean stop left no log to read).
        case immutable
    }
    private var cache: [String: OpaquePointer] = [:]

    init(path: String, access: Access = .readWrite) throws(CatalogError) {
        self.path = path
        var opened: OpaquePointer? = nil
        let flags: Int32
        let name: String
        switch access {
        case .readWrite:
            flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
            name = path
        case .readOnly:
            flags = SQLITE_OPEN_READONLY
            name = path
        case .immutable:
            flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
            name = "file:\(SQLiteDatabase.uriEscaped(path))?immutable=1"
        }
        let result = sqlite3_open_v2(name, &opened, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard result == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(opened)
            throw CatalogError("cannot open the catalog \(path): \(message)", kind: .sqlite(result))
        }
        handle = opened
        sqlite3_extended_result_codes(opened, 1)
        // Writers wait for each other (the recorder, a hold command) instead of failing.
        sqlite3_busy_timeout(opened, 10_000)
    }

    deinit {
        for statement in cache.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// A path as the file part of an SQLite URI.
    static func uriEscaped(_ path: String) -> String {
        var escaped = ""
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "%"), 0x80...0xFF: escaped += String(format: "%%%02X", byte)
            default: escaped.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return escaped
    }

    private var errorMessage: String { handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed" }

    private func failure(_ code: Int32, _ sql: String) -> CatalogError {
        CatalogError("catalog \(path): \(errorMessage) (in: \(sql.prefix(80)))", kind: .sqlite(code))
    }

    /// Runs statements without results (schema, pragmas, BEGIN/COMMIT).
    func execute(_ sql: String) throws(CatalogError) {
        var message: UnsafeMutablePointer<CChar>? = nil
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        if code != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? errorMessage
            sqlite3_free(message)
            throw CatalogError("catalog \(path): \(text) (in: \(sql.prefix(80)))", kind: .sqlite(code))
        }
    }

    /// Runs one statement with parameters and returns its rows.
    @discardableResult
    func query(_ sql: String, _ parameters: [SQLValue] = []) throws(CatalogError) -> [[SQLValue]] {
        var rows: [[SQLValue]] = []
        try each(sql, parameters) { rows.append($0) }
        return rows
    }

    /// Runs one statement with parameters, handing each row to `body` as it comes.
    func each(_ sql: String, _ parameters: [SQLValue], _ body: ([SQLValue]) -> Void) throws(CatalogError) {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let result: Int32
            switch value {
            case .null: result = sqlite3_bind_null(statement, index)
            case .integer(let number): result = sqlite3_bind_int64(statement, index, number)
            case .real(let number): result = sqlite3_bind_double(statement, index, number)
            case .text(let text): result = sqlite3_bind_text(statement, index, text, -1, vigie_sqlite_transient())
            case .blob(let bytes):
                result = bytes.withUnsafeBytes {
                    sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), vigie_sqlite_transient())
                }
            }
            if result != SQLITE_OK {
                throw CatalogError("catalog \(path): cannot bind parameter \(index): \(errorMessage)", kind: .sqlite(result))
            }
        }
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { return }
            guard step == SQLITE_ROW else { throw failure(step, sql) }
            let count = sqlite3_column_count(statement)
            var row: [SQLValue] = []
            row.reserveCapacity(Int(count))
            for column in 0..<count {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(statement, column)))
                case SQLITE_TEXT: row.append(.text(String(cString: sqlite3_column_text(statement, column))))
                case SQLITE_BLOB:
                    let size = Int(sqlite3_column_bytes(statement, column))
                    if size > 0, let bytes = sqlite3_column_blob(statement, column) {
                        row.append(.blob(Array(UnsafeRawBufferPointer(start: bytes, count: size))))
                    } else {
                        row.append(.blob([]))
                    }
                default: row.append(.null)
                }
            }
            body(row)
        }
    }

    var lastInsertedRow: Int64 { sqlite3_last_insert_rowid(handle) }
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` in one transaction (IMMEDIATE: takes the write lock first), rolled back if it throws.
    func transaction<T>(_ body: () throws(CatalogError) -> T) throws(CatalogError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Makes the statement running on this connection stop with SQLITE_INTERRUPT: the one
    /// call SQLite allows from another thread (the integrity check of a large file honours it).
    func interrupt() { sqlite3_interrupt(handle) }

    /// Keeps the write-ahead log's file when the connection closes (its blocks stay the
    /// catalog's: see `SQLiteCatalog.ensureReserve`).
    func persistWriteAheadLog() {
        var on: Int32 = 1
        _ = sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &on)
    }

    /// Copies this whole database into `destination` (another connection), in one step:
    /// on a write-ahead-log database the copy is the snapshot of one read transaction and
    /// writers through other connections are not held up.
    func copy(into destination: SQLiteDatabase) throws(CatalogError) {
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw CatalogError("catalog backup into \(destination.path): \(destination.errorMessage)", kind: .sqlite(sqlite3_errcode(destination.handle)))
        }
        let step = sqlite3_backup_step(backup, -1)
        let finish = sqlite3_backup_finish(backup)
        guard step == SQLITE_DONE, finish == SQLITE_OK else {
            let code = step == SQLITE_DONE ? finish : step
            throw CatalogError(
                "catalog backup of \(path) into \(destination.path): \(String(cString: sqlite3_errstr(code)))", kind: .sqlite(code))
        }
    }

    private func prepared(_ sql: String) throws(CatalogError) -> OpaquePointer {
        if let statement = cache[sql] { return statement }
        var statement: OpaquePointer? = nil
        let code = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else { throw failure(code, sql) }
        cache[sql] = statement
        return statement
    }
}

extension SQLValue {
    var int: Int64? { if case .integer(let value) = self { return value } else { return nil } }
    var string: String? { if case .text(let value) = self { return value } else { return nil } }
    var double: Double? {
        switch self {
        case .real(let value): return value
        case .integer(let value): return Double(value)
        default: return nil
        }
    }
    var bytes: [UInt8]? { if case .blob(let value) = self { return value } else { return nil } }
}

extension Optional where Wrapped == String {
    var sql: SQLValue { map(SQLValue.text) ?? .null }
}

extension Optional where Wrapped == Int64 {
    var sql: SQLValue { map(SQLValue.integer) ?? .null }
}
