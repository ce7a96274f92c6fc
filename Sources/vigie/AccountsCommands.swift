import ArgumentParser
import Foundation
import RecorderAPI
import RecorderCore

struct AccountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts", abstract: "Named accounts and their roles: who may do what.",
        discussion: """
            Roles: operator (live wall and isolation on the account's cameras), technician (also \
            playback and holds), supervisor (also accounts and layouts), auditor (audit log and \
            registers, no images), admin (system settings, no images). A site with no account runs \
            in single-user mode (the local Unix user may do everything); the first account, which \
            must be a supervisor, ends it: from then on a local Unix user acts as the account mapped \
            to it with --unix-user, and an unmapped one is refused. Passwords are read from a prompt, \
            or from standard input when it is not a terminal; only their scrypt hash is kept.
            """,
        subcommands: [AccountsAdd.self, AccountsList.self, AccountsShow.self, AccountsChange.self, AccountsPasswd.self, AccountsDisable.self, AccountsEnable.self, AccountsRevoke.self])
}

/// Options shared by the commands that change an account.
struct AccountFields: ParsableArguments {
    @Option(help: ArgumentHelp("Camera id globs, comma separated (`*`, `quai-*`): the cameras whose pictures the account may see.", valueName: "globs"))
    var cameras: String?
    @Option(help: ArgumentHelp("The last day of the habilitation (YYYY-MM-DD, local): no login after it.", valueName: "date")) var expires: String?
    @Option(help: ArgumentHelp("The local Unix user who acts as this account.", valueName: "user")) var unixUser: String?

    func globs(_ inventory: CameraInventory) throws -> [String]? {
        guard let cameras else { return nil }
        let globs = cameras.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for glob in globs {
            guard !glob.isEmpty, glob.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "*?._-".unicodeScalars.contains($0)) })
            else { throw ValidationError("--cameras: `\(glob)` is not a camera id glob (letters, digits, . _ - and the wildcards * ?)") }
            if !inventory.cameras.contains(where: { Glob.matches(glob, $0.id) }) {
                printError("vigie: warning: --cameras `\(glob)` matches no camera of \(inventory.file) today")
            }
        }
        guard !globs.isEmpty else { throw ValidationError("--cameras needs at least one glob") }
        return globs
    }

    func expiry(_ zone: TimeZone) throws -> Date? {
        guard let expires else { return nil }
        // The habilitation holds through its last day, local time.
        return try parseLocal(expires + " 23:59:59", zone, option: "--expires").addingTimeInterval(1)
    }

    func validate() throws {
        if let unixUser, let problem = Account.validName(unixUser) { throw ValidationError("--unix-user \(problem)") }
    }
}

/// Reads a new password: twice at a prompt on the terminal (not echoed), or one line of
/// standard input when it is not a terminal (scripts, tests). Never echoed, logged or kept.
func readNewPassword(for name: String) throws -> String {
    func refuse(_ why: String) -> ExitCode {
        printError("vigie accounts: \(why); nothing was changed")
        return ExitCode(64)
    }
    let password: String
    if isatty(STDIN_FILENO) != 0 {
        guard let first = readHidden("New password for \(name): ") else { throw refuse("no password given") }
        guard let second = readHidden("Again: "), second == first else { throw refuse("the two passwords differ") }
        password = first
    } else {
        guard let line = readLine(strippingNewline: true) else { throw refuse("no password on standard input") }
        password = line
    }
    if let weakness = PasswordHash.weakness(password) { throw refuse(weakness) }
    return password
}

/// Reads a password: at a prompt on the terminal (not echoed), else one line of standard input.
func readPassword(prompt: String) throws -> String {
    let line = isatty(STDIN_FILENO) != 0 ? readHidden(prompt) : readLine(strippingNewline: true)
    guard let line, !line.isEmpty else {
        printError("vigie: no password given")
        throw ExitCode(64)
    }
    return line
}

private func readHidden(_ prompt: String) -> String? {
    FileHandle.standardError.write(Data(prompt.utf8))
    var saved = termios()
    tcgetattr(STDIN_FILENO, &saved)
    var quiet = saved
    quiet.c_lflag &= ~tcflag_t(ECHO)
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
    defer {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
        FileHandle.standardError.write(Data("\n".utf8))
    }
    return readLine(strippingNewline: true)
}

/// The last day of a habilitation that ends at `expiry` (the midnight after it), local.
func lastDay(_ expiry: Date, _ zone: TimeZone) -> String {
    String(LocalTime.format(expiry.addingTimeInterval(-1), timeZone: zone).prefix(10))
}

func describe(_ account: Account, zone: TimeZone, now: Date = Date()) -> [String] {
    var lines = [
        "account     \(account.name)",
        "role        \(account.role.rawValue): \(account.role.summary)",
        "cameras     \(account.cameras.joined(separator: ","))",
        "unix user   \(account.unixUser ?? "-")",
        "created     \(LocalTime.format(account.createdAt, timeZone: zone)) by \(account.createdBy)",
        "expires     \(account.expires.map { "after \(lastDay($0, zone))" } ?? "never")",
        "password    set \(LocalTime.format(account.passwordChangedAt, timeZone: zone))",
        "last login  \(account.lastLogin.map { LocalTime.format($0, timeZone: zone) } ?? "never")",
    ]
    if let disabled = account.disabledAt { lines.append("DISABLED    \(LocalTime.format(disabled, timeZone: zone)) by \(account.disabledBy ?? "?")") }
    if let why = account.unusable(at: now), account.disabledAt == nil { lines.append("CANNOT LOG IN: \(why)") }
    return lines
}

struct AccountsAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a named account (supervisors; anyone for the first, a supervisor).")

    @OptionGroup var storageOptions: StorageOptions
    @Argument(help: "The account's name (a letter, then letters, digits, . _ -).") var name: String
    @Option(help: "operator, technician, supervisor, auditor or admin.") var role: String
    @OptionGroup var fields: AccountFields

    func validate() throws {
        if let problem = Account.validName(name) { throw ValidationError("the account name \(problem)") }
        guard Role(rawValue: role) != nil else {
            throw ValidationError("--role `\(TerminalText.escaped(role))` is not a role: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let (inventory, store, actor) = try storageOptions.open(for: .accounts)
        let role = Role(rawValue: role) ?? .operator
        if case .singleUser = actor, role != .supervisor {
            printError("vigie accounts add: the first account must be a supervisor: it is the one who adds the others")
            throw ExitCode(64)
        }
        var account = Account(
            name: name, role: role, cameras: try fields.globs(inventory) ?? ["*"], unixUser: fields.unixUser, passwordHash: "", createdBy: actor.name,
            createdAt: Date(), expires: try fields.expiry(inventory.site.timeZone))
        // A single-user site's first account is the person making it, unless they say otherwise.
        if case .singleUser(let user) = actor, account.unixUser == nil { account.unixUser = user }
        account.passwordHash = try PasswordHash.make(try readNewPassword(for: name))
        let conflict: CatalogError?
        do {
            try store.catalog.addAccount(account)
            conflict = nil
        } catch {
            guard error.kind == .conflict else { throw StorageOptions.exit(error) }
            conflict = error
        }
        if let conflict {
            printError("vigie accounts add: \(conflict)")
            throw ExitCode(65)
        }
        store.audit.record(
            OperatorEvent(
                who: actor.name, action: .accountAdded,
                detail: "account \(name) role \(role.rawValue) cameras \(account.cameras.joined(separator: ",")) unix user \(account.unixUser ?? "-") expires \(account.expires.map { "after \(lastDay($0, inventory.site.timeZone))" } ?? "never")"
            ))
        print("account \(name) (\(role.rawValue)) added\(account.unixUser.map { "; the Unix user \($0) acts as it" } ?? "")")
        if case .singleUser = actor { print("single-user mode ended: from now on every action needs an account") }
    }
}

struct AccountsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The accounts (supervisors and auditors).")

    @OptionGroup var storageOptions: StorageOptions

    func run() throws {
        let (inventory, store, _) = try storageOptions.open(.readOnly, for: .readAccounts)
        let zone = inventory.site.timeZone
        let accounts = try store.catalog.accounts()
        if accounts.isEmpty { print("no account: single-user mode (the local Unix user may do everything)") }
        let now = Date()
        let rows = [["ACCOUNT", "ROLE", "CAMERAS", "UNIX USER", "EXPIRES", "LAST LOGIN", "STATE"]]
            + accounts.map { account in
                [
                    account.name, account.role.rawValue, account.cameras.joined(separator: ","), account.unixUser ?? "-",
                    account.expires.map { "after \(lastDay($0, zone))" } ?? "never",
                    account.lastLogin.map { LocalTime.format($0, timeZone: zone) } ?? "never",
                    account.disabledAt != nil ? "disabled" : account.unusable(at: now) != nil ? "expired" : "active",
                ]
            }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        if !accounts.isEmpty {
            for row in rows { print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")) }
        }
    }
}

/// Finds a named account or exits 64 saying so.
func namedAccount(_ name: String, in store: RecordingStore, command: String) throws -> Account {
    guard let account = try store.catalog.accounts().first(where: { $0.name == name }) else {
        printError("vigie accounts \(command): no account `\(TerminalText.escaped(name))`")
        throw ExitCode(64)
    }
    return account
}

struct AccountsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One account (your own, or any for supervisors and auditors).")

    @OptionGroup var storageOptions: StorageOptions
    @Argument(help: "The account's name (default: your own).") var name: String?

    func run() throws {
        let (inventory, store) = try storageOptions.open(.readOnly)
        let actor = try ownOrAllowed(name, store: store, storageOptions: storageOptions, permission: .readAccounts)
        let account = try namedAccount(name ?? actor.name, in: store, command: "show")
        for line in describe(account, zone: inventory.site.timeZone) { print(line) }
    }
}

/// The actor, when acting on their own account (`name` nil or theirs) or allowed `permission`.
func ownOrAllowed(_ name: String?, store: RecordingStore, storageOptions: StorageOptions, permission: Permission) throws -> Actor {
    if case .success(let actor) = AccessPolicy.localActor(unixUser: unixUser, accounts: try store.catalog.accounts()), let own = actor.account,
        name == nil || name == own.name
    {
        return actor
    }
    return try storageOptions.authorize(store, permission)
}

struct AccountsChange: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change", abstract: "Change an account's role, cameras, habilitation expiry or Unix user (supervisors).")

    @OptionGroup var storageOptions: StorageOptions
    @Argument(help: "The account's name.") var name: String
    @Option(help: "The new role.") var role: String?
    @OptionGroup var fields: AccountFields
    @Flag(help: "The account expires no more.") var noExpiry = false
    @Flag(help: "No Unix user acts as the account any more.") var noUnixUser = false

    func validate() throws {
        if let role, Role(rawValue: role) == nil {
            throw ValidationError("--role `\(TerminalText.escaped(role))` is not a role: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if noExpiry && fields.expires != nil { throw ValidationError("--expires and --no-expiry contradict each other") }
        if noUnixUser && fields.unixUser != nil { throw ValidationError("--unix-user and --no-unix-user contradict each other") }
    }

    func run() throws {
        let (inventory, store, actor) = try storageOptions.open(for: .accounts)
        var account = try namedAccount(name, in: store, command: "change")
        let before = account
        if let role = role.flatMap(Role.init(rawValue:)) { account.role = role }
        if let globs = try fields.globs(inventory) { account.cameras = globs }
        if let expiry = try fields.expiry(inventory.site.timeZone) { account.expires = expiry }
        if noExpiry { account.expires = nil }
        if let user = fields.unixUser { account.unixUser = user }
        if noUnixUser { account.unixUser = nil }
        let now = Date()
        if before.role == .supervisor && account.unusable(at: now) != nil || before.role == .supervisor && account.role != .supervisor,
            try store.catalog.accounts().filter({ $0.role == .supervisor && $0.unusable(at: now) == nil && $0.name != name }).isEmpty
        {
            printError("vigie accounts change: \(name) is the last active supervisor: nobody could manage accounts after it")
            throw ExitCode(64)
        }
        do {
            try store.catalog.updateAccount(account)
        } catch {
            printError("vigie accounts change: \(error)")
            throw ExitCode(error.kind == .conflict ? 65 : 74)
        }
        let zone = inventory.site.timeZone
        var changes: [String] = []
        if before.role != account.role { changes.append("role \(before.role.rawValue) -> \(account.role.rawValue)") }
        if before.cameras != account.cameras { changes.append("cameras \(before.cameras.joined(separator: ",")) -> \(account.cameras.joined(separator: ","))") }
        if before.expires != account.expires {
            changes.append("expires \(account.expires.map { "after \(lastDay($0, zone))" } ?? "never")")
        }
        if before.unixUser != account.unixUser { changes.append("unix user \(before.unixUser ?? "-") -> \(account.unixUser ?? "-")") }
        guard !changes.isEmpty else {
            print("account \(name): nothing to change")
            return
        }
        store.audit.record(OperatorEvent(who: actor.name, action: .accountChanged, detail: "account \(name): \(changes.joined(separator: "; "))"))
        print("account \(name): \(changes.joined(separator: "; "))")
    }
}

struct AccountsPasswd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "passwd", abstract: "Change a password (your own, or any for supervisors).")

    @OptionGroup var storageOptions: StorageOptions
    @Argument(help: "The account's name (default: your own).") var name: String?

    func run() throws {
        let (_, store) = try storageOptions.open()
        let actor = try ownOrAllowed(name, store: store, storageOptions: storageOptions, permission: .accounts)
        var account = try namedAccount(name ?? actor.name, in: store, command: "passwd")
        account.passwordHash = try PasswordHash.make(try readNewPassword(for: account.name))
        account.passwordChangedAt = Date()
        try store.catalog.updateAccount(account)
        store.audit.record(OperatorEvent(who: actor.name, action: .passwordChanged, detail: "password of account \(account.name) changed"))
        print("password of \(account.name) changed")
    }
}

struct AccountsDisable: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Disable an account: it can no longer log in or act (supervisors).")

    @OptionGroup var storageOptions: StorageOptions
    @Argument(help: "The account's name.") var name: String
    @Option(help: "Why (kept in the audit log).") var reason: String?

    func validate() throws { if let reason { try checkTyped(reason, option: "--reason") } }

    func run() throws {
        let (_, store, actor) = try storageOptions.open(for: .accounts)
        var account = try namedAccount(name, in: store, command: "disable")
        let now = Date()
        let supervisors = try store.catalog.accounts().filter { $0.role == .supervisor && $0.unusable(at: now) == nil && $0.name != name }
        if account.role == .supervisor && supervisors.isEmpty {
            printError("vigie accounts disable: \(name) is the last active supervisor: nobody could manage accounts after it")
            throw ExitCode(64)
        }
        guard account.disabledAt == nil else {
            print("account \(name) was already disabled")
            return
        }
        account.disabledAt = now
        account.disabledBy = actor.name
        try store.catalog.updateAccount(account)
        store.audit.record(OperatorEvent(who: actor.name, action: .accountDisabled, detail: "account \(name) disabled", reason: reason))
        print("account \(name) disabled")
    }
}

struct AccountsEnable: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Enable a disabled account again (supervisors).")

    @OptionGroup var storageOptions: StorageOptions
    @Argument(help: "The account's name.") var name: String
    @Option(help: "Why (kept in the audit log).") var reason: String?

    func validate() throws { if let reason { try checkTyped(reason, option: "--reason") } }

    func run() throws {
        let (_, store, actor) = try storageOptions.open(for: .accounts)
        var account = try namedAccount(name, in: store, command: "enable")
        account.disabledAt = nil
        account.disabledBy = nil
        try store.catalog.updateAccount(account)
        store.audit.record(OperatorEvent(who: actor.name, action: .accountEnabled, detail: "account \(name) enabled", reason: reason))
        print("account \(name) enabled")
    }
}

struct AccountsRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "End an account's sessions (your own, or any for supervisors): its consoles are cut off.")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Argument(help: "The account's name.") var name: String
    @Option(help: "Only this session (its number in the audit log's login entry).") var session: Int64?

    func run() throws {
        let (service, _) = try remote.connect(storageOptions, access: .readWrite)
        let count = try check("vigie accounts revoke") { () throws(ServiceError) in try service.revokeSessions(account: name, session: session) }
        print("\(count) session(s) of \(name) revoked")
    }
}
