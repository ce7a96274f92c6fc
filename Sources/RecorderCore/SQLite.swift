import CSQLite
import Foundation

/// What went wrong in the catalog: the operation, the file and SQLite's own message.
public struct CatalogError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
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
    private var cache: [String: OpaquePointer] = [:]

    init(path: String, readOnly: Bool = false) throws(CatalogError) {
        self.path = path
        var opened: OpaquePointer? = nil
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path, &opened, flags, nil)
        guard result == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(opened)
            throw CatalogError("cannot open the catalog \(path): \(message)")
        }
        handle = opened
        // Writers wait for each other (the recorder, a hold command) instead of failing.
        sqlite3_busy_timeout(opened, 10_000)
    }

    deinit {
        for statement in cache.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    private var errorMessage: String { handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed" }

    /// Runs statements without results (schema, pragmas, BEGIN/COMMIT).
    func execute(_ sql: String) throws(CatalogError) {
        var message: UnsafeMutablePointer<CChar>? = nil
        if sqlite3_exec(handle, sql, nil, nil, &message) != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? errorMessage
            sqlite3_free(message)
            throw CatalogError("catalog \(path): \(text) (in: \(sql.prefix(80)))")
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
            if result != SQLITE_OK { throw CatalogError("catalog \(path): cannot bind parameter \(index): \(errorMessage)") }
        }
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { return }
            guard step == SQLITE_ROW else {
                throw CatalogError("catalog \(path): \(errorMessage) (in: \(sql.prefix(80)))")
            }
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

    private func prepared(_ sql: String) throws(CatalogError) -> OpaquePointer {
        if let statement = cache[sql] { return statement }
        var statement: OpaquePointer? = nil
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw CatalogError("catalog \(path): \(errorMessage) (in: \(sql.prefix(80)))")
        }
        cache[sql] = statement
        return statement
    }
}

extension SQLValue {
    var int: Int64? { if case .integer(let value) = self { return value } else { return nil } }
    var string: String? { if case .text(let value) = self { return value } else { return nil } }
    var bytes: [UInt8]? { if case .blob(let value) = self { return value } else { return nil } }
}

extension Optional where Wrapped == String {
    var sql: SQLValue { map(SQLValue.text) ?? .null }
}

extension Optional where Wrapped == Int64 {
    var sql: SQLValue { map(SQLValue.integer) ?? .null }
}
