public import Foundation

/// The catalog's accounts and login sessions (schema 4): who may log in, and the tokens'
/// hashes.
extension SQLiteCatalog {
    // MARK: Accounts

    static let accountColumns = "name, role, cameras, unix_user, password, created_by, created_us, expires_us, disabled_by, disabled_us, password_us, last_login_us"

    public func accounts() throws(CatalogError) -> [Account] {
        try locked { database throws(CatalogError) in
            let present = try database.query("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'accounts'").first?.first?.int ?? 0
            guard present > 0 else { return [] }  // an earlier schema read without upgrading it
            return try database.query("SELECT \(SQLiteCatalog.accountColumns) FROM accounts ORDER BY name").compactMap { row -> Account? in
                guard let name = row[0].string, let role = row[1].string.flatMap(Role.init(rawValue:)) else { return nil }
                var account = Account(
                    name: name, role: role, cameras: (row[2].string ?? "").split(separator: ",").map(String.init), unixUser: row[3].string,
                    passwordHash: row[4].string ?? "", createdBy: row[5].string ?? "", createdAt: Date(micros: row[6].int ?? 0),
                    expires: row[7].int.map(Date.init(micros:)))
                account.disabledBy = row[8].string
                account.disabledAt = row[9].int.map(Date.init(micros:))
                account.passwordChangedAt = Date(micros: row[10].int ?? 0)
                account.lastLogin = row[11].int.map(Date.init(micros:))
                return account
            }
        }
    }

    private func accountValues(_ account: Account) -> [SQLValue] {
        [
            .text(account.name), .text(account.role.rawValue), .text(account.cameras.joined(separator: ",")), account.unixUser.sql,
            .text(account.passwordHash), .text(account.createdBy), .integer(account.createdAt.micros), account.expires.map { .integer($0.micros) } ?? .null,
            account.disabledBy.sql, account.disabledAt.map { .integer($0.micros) } ?? .null, .integer(account.passwordChangedAt.micros),
            account.lastLogin.map { .integer($0.micros) } ?? .null,
        ]
    }

    public func addAccount(_ account: Account) throws(CatalogError) {
        try locked { database throws(CatalogError) in
            try database.transaction { () throws(CatalogError) in
                if try database.query("SELECT 1 FROM accounts WHERE name = ?", [.text(account.name)]).first != nil {
                    throw CatalogError("there is already an account \(account.name)", kind: .conflict)
                }
                if let user = account.unixUser, let other = try database.query("SELECT name FROM accounts WHERE unix_user = ?", [.text(user)]).first?.first?.string {
                    throw CatalogError("the Unix user \(user) already acts as account \(other)", kind: .conflict)
                }
                try database.query("INSERT INTO accounts (\(SQLiteCatalog.accountColumns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", accountValues(account))
            }
        }
    }

    public func updateAccount(_ account: Account) throws(CatalogError) {
        try locked { database throws(CatalogError) in
            try database.transaction { () throws(CatalogError) in
                if let user = account.unixUser,
                    let other = try database.query("SELECT name FROM accounts WHERE unix_user = ? AND name <> ?", [.text(user), .text(account.name)]).first?.first?.string
                {
                    throw CatalogError("the Unix user \(user) already acts as account \(other)", kind: .conflict)
                }
                let values = accountValues(account)
                try database.query(
                    """
                    UPDATE accounts SET role = ?2, cameras = ?3, unix_user = ?4, password = ?5, created_by = ?6, created_us = ?7, expires_us = ?8,
                    disabled_by = ?9, disabled_us = ?10, password_us = ?11, last_login_us = ?12 WHERE name = ?1
                    """, values)
                if database.changes == 0 { throw CatalogError("there is no account \(account.name)", kind: .conflict) }
            }
        }
    }
}

extension SQLiteCatalog {
    // MARK: Sessions

    static func session(_ row: [SQLValue]) -> LoginSession {
        LoginSession(
            id: row[0].int ?? 0, tokenSHA256: row[1].string ?? "", account: row[2].string ?? "", address: row[3].string ?? "",
            created: Date(micros: row[4].int ?? 0), expires: Date(micros: row[5].int ?? 0), revoked: row[6].int.map(Date.init(micros:)),
            revokedBy: row[7].string)
    }
    static let sessionColumns = "id, token_sha256, account, address, created_us, expires_us, revoked_us, revoked_by"

    public func addSession(_ session: LoginSession) throws(CatalogError) -> Int64 {
        try locked { database throws(CatalogError) in
            try database.query(
                "INSERT INTO sessions (token_sha256, account, address, created_us, expires_us) VALUES (?,?,?,?,?)",
                [.text(session.tokenSHA256), .text(session.account), .text(session.address), .integer(session.created.micros), .integer(session.expires.micros)])
            return database.lastInsertedRow
        }
    }

    public func session(tokenSHA256: String) throws(CatalogError) -> LoginSession? {
        try locked { database throws(CatalogError) in
            let present = try database.query("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'sessions'").first?.first?.int ?? 0
            guard present > 0 else { return nil }
            return try database.query("SELECT \(SQLiteCatalog.sessionColumns) FROM sessions WHERE token_sha256 = ?", [.text(tokenSHA256)])
                .first.map(SQLiteCatalog.session)
        }
    }

    public func sessions(account: String?) throws(CatalogError) -> [LoginSession] {
        try locked { database throws(CatalogError) in
            let present = try database.query("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'sessions'").first?.first?.int ?? 0
            guard present > 0 else { return [] }
            return try database.query(
                "SELECT \(SQLiteCatalog.sessionColumns) FROM sessions WHERE ?1 IS NULL OR account = ?1 ORDER BY id", [account.sql]
            ).map(SQLiteCatalog.session)
        }
    }

    @discardableResult
    public func revokeSessions(account: String, id: Int64?, by who: String, at time: Date) throws(CatalogError) -> Int {
        try locked { database throws(CatalogError) in
            try database.query(
                "UPDATE sessions SET revoked_us = ?, revoked_by = ? WHERE account = ? AND (?4 IS NULL OR id = ?4) AND revoked_us IS NULL AND expires_us > ?1",
                [.integer(time.micros), .text(who), .text(account), id.sql])
            return database.changes
        }
    }
}
