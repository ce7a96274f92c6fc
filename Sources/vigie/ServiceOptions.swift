import ArgumentParser
import Client
import Foundation
import RecorderAPI
import RecorderCore
import Server

/// How a command reaches the recordings: `--server HOST:PORT` (a remote recorder, with the
/// session `vigie login` saved), else the local recorder's socket when one runs, else the
/// recordings themselves in this process. The same API answers in all three cases: the
/// same checks of the account, the same audit entries.
struct ServiceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The recorder to ask, HOST:PORT over TLS (log in first with `vigie login`).", valueName: "host:port"))
    var server: String?

    func validate() throws {
        if let server, ServerAddress.parse(server) == nil { throw ValidationError("--server is HOST:PORT ([IPv6]:PORT)") }
    }

    /// The service, and the time zone local times are read and shown in.
    func connect(_ storageOptions: StorageOptions, access: CatalogAccess) throws -> (RecorderService, TimeZone) {
        if let server, let address = ServerAddress.parse(server) {
            guard let saved = SavedSession.load(server: address) else {
                printError("vigie: not logged in to \(address): run `vigie login --server \(address) --user NAME` first")
                throw ExitCode(77)
            }
            let service = RecorderService(RecorderClient(address: address, trust: saved.trust, token: saved.token))
            let session = try check { () throws(ServiceError) in try service.session() }
            return (service, session.timeZone.flatMap(TimeZone.init(identifier:)) ?? .current)
        }
        let inventory = try SiteLocator.load(storageOptions.siteOptions.site)
        let root = storageOptions.root(inventory)
        let socket = root.appendingPathComponent("recorder.sock").path
        if FileManager.default.fileExists(atPath: socket) {
            let service = RecorderService(RecorderClient(address: .unix(path: socket), timeoutSeconds: 15))
            // A socket left by a recorder that crashed answers nothing: the recordings are read here then.
            if (try? service.transport.exchange("GET", "/v1/session", body: nil)) != nil { return (service, inventory.site.timeZone) }
        }
        let (_, store) = try storageOptions.open(access)
        let api = ServerAPI(store: store, inventory: inventory, metrics: { "" })
        return (RecorderService(InProcessTransport(api: api, unixUser: unixUser)), inventory.site.timeZone)
    }
}

/// Runs a service call; its failure is said and becomes the exit code of its kind.
func check<T>(_ command: String = "vigie", _ body: () throws(ServiceError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        printError("\(command): \(error.kind == .refused || error.kind == .unauthenticated ? "refused: " : "")\(error)")
        switch error.kind {
        case .unreachable, .untrusted: throw ExitCode(69)  // EX_UNAVAILABLE
        case .unauthenticated, .refused: throw ExitCode(77)  // EX_NOPERM
        case .throttled: throw ExitCode(75)  // EX_TEMPFAIL
        case .notFound, .invalid: throw ExitCode(64)
        case .unavailable: throw ExitCode(74)
        case .protocolError: throw ExitCode(76)  // EX_PROTOCOL
        }
    }
}

/// A login kept for a server: its token (never the password), how its certificate is
/// trusted, in $XDG_CONFIG_HOME/vigie/sessions (else ~/.config), mode 0600.
struct SavedSession: Codable {
    var server: String
    var account: String
    var token: String
    var fingerprint: String?
    var certificateAuthority: String?
    var expires: Date?

    var trust: ServerTrust? {
        if let fingerprint { return .fingerprint(fingerprint) }
        return certificateAuthority.map { .certificateAuthority(file: $0) }
    }

    static func folder() -> URL {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config")
        return base.appendingPathComponent("vigie/sessions")
    }

    static func file(_ server: ServerAddress) -> URL {
        let name = server.description.map { $0.isLetter || $0.isNumber || $0 == "." ? String($0) : "_" }.joined()
        return folder().appendingPathComponent(name + ".json")
    }

    static func load(server: ServerAddress) -> SavedSession? {
        guard let data = FileManager.default.contents(atPath: file(server).path) else { return nil }
        return try? API.decode(SavedSession.self, from: data)
    }

    func save(_ server: ServerAddress) throws {
        let folder = SavedSession.folder()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = SavedSession.file(server).path
        unlink(path)
        guard FileManager.default.createFile(atPath: path, contents: Data(API.encode(self)), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write the session file \(path)")
        }
    }
}

struct Login: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Log in to a recorder over TLS; the session is kept for the other commands' --server.",
        discussion: """
            The password is read from a prompt, or from standard input when it is not a terminal. \
            Only the session's token is kept, in $XDG_CONFIG_HOME/vigie/sessions (else ~/.config), \
            mode 0600. Trust the recorder's self-signed certificate by its fingerprint (printed by \
            `vigie record --listen`), or a certificate signed by the site's CA with --ca.
            """)

    @Option(help: ArgumentHelp("The recorder, HOST:PORT.", valueName: "host:port")) var server: String
    @Option(help: "The account's name.") var user: String
    @Option(help: ArgumentHelp("The recorder certificate's fingerprint, SHA256:HEX.", valueName: "sha256")) var fingerprint: String?
    @Option(help: ArgumentHelp("A CA certificate file (PEM) that signed the recorder's certificate.", valueName: "file")) var ca: String?

    func validate() throws {
        guard ServerAddress.parse(server) != nil, !server.hasPrefix("/") else { throw ValidationError("--server is HOST:PORT ([IPv6]:PORT)") }
        if let fingerprint, !(fingerprint.lowercased().hasPrefix("sha256:") && fingerprint.count == 71 && fingerprint.dropFirst(7).allSatisfy(\.isHexDigit)) {
            throw ValidationError("--fingerprint is SHA256: and 64 hex digits, as `vigie record --listen` prints it")
        }
        if fingerprint != nil && ca != nil { throw ValidationError("--fingerprint and --ca: one way to trust the recorder") }
    }

    func run() throws {
        let address = ServerAddress.parse(server)!
        let pinned = fingerprint.map { "SHA256:" + $0.dropFirst(7).lowercased() }
        let trust: ServerTrust? = pinned.map { .fingerprint($0) } ?? ca.map { .certificateAuthority(file: $0) }
        let password = try readPassword(prompt: "Password for \(user) on \(address): ")
        let service = RecorderService(RecorderClient(address: address, trust: trust))
        let answer = try check("vigie login") { () throws(ServiceError) in try service.login(account: user, password: password) }
        try SavedSession(server: address.description, account: user, token: answer.token, fingerprint: pinned, certificateAuthority: ca, expires: answer.session.expires)
            .save(address)
        let until = answer.session.expires.map { " until \(LocalTime.format($0, timeZone: answer.session.timeZone.flatMap(TimeZone.init(identifier:)) ?? .current))" } ?? ""
        print("logged in to \(address) as \(answer.session.account) (\(answer.session.role))\(until)")
    }
}

struct Logout: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End the session kept for a recorder.")
    @Option(help: ArgumentHelp("The recorder, HOST:PORT.", valueName: "host:port")) var server: String

    func run() throws {
        guard let address = ServerAddress.parse(server), let saved = SavedSession.load(server: address) else {
            print("no session kept for \(server)")
            return
        }
        let service = RecorderService(RecorderClient(address: address, trust: saved.trust, token: saved.token))
        do {
            try service.logout()
        } catch {
            printError("vigie logout: the recorder was not told (\(error)); the session is forgotten here")
        }
        unlink(SavedSession.file(address).path)
        print("logged out of \(address)")
    }
}
