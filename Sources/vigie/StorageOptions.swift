import ArgumentParser
import Foundation
import RecorderCore

/// Options of the commands that work on a site's recordings.
struct StorageOptions: ParsableArguments {
    @OptionGroup var siteOptions: SiteOptions

    @Option(help: "Recordings folder (default: $VIGIE_STORAGE, else ~/.local/share/vigie/recordings/SITE).")
    var storage: String?

    /// The storage folder of the site.
    func root(_ inventory: CameraInventory) -> URL { RecordingStore.root(given: storage, siteName: inventory.site.name) }

    /// Opens the site's inventory and recordings: `readOnly` for the commands that only
    /// read (they work on a full disk and on write-protected media). Prints a clear error
    /// and exits 66 when there is nothing recorded there, 74 when the storage cannot be used.
    func open(_ access: CatalogAccess = .readWrite) throws -> (CameraInventory, RecordingStore) {
        let inventory = try SiteLocator.load(siteOptions.site)
        do {
            let store = try RecordingStore(root: root(inventory), access: access)
            if let note = (store.catalog as? SQLiteCatalog)?.readNote { printError("vigie: note: \(note)") }
            return (inventory, store)
        } catch {
            throw StorageOptions.exit(error)
        }
    }

    /// Prints a storage error and gives the exit code that says what kind it is.
    static func exit(_ error: CatalogError, command: String = "vigie") -> ExitCode {
        printError("\(command): \(error)")
        switch error.kind {
        case .noCatalog: return ExitCode(66)  // EX_NOINPUT
        case .locked: return ExitCode(75)  // EX_TEMPFAIL
        default: return ExitCode(74)  // EX_IOERR
        }
    }
}

/// The Unix user this process runs as, from the kernel (not $USER, which anyone can set).
var unixUser: String {
    let uid = geteuid()
    guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid\(uid)" }
    return String(cString: name)
}

extension StorageOptions {
    /// Opens the recordings for the person at the keyboard, who must be allowed `permission`
    /// (on `camera` when given): on a site with accounts, the account mapped to this Unix
    /// user; without any, single-user mode. A refusal is said, written to the audit log
    /// (when the storage can be written) and exits 77.
    func open(_ access: CatalogAccess = .readWrite, for permission: Permission, camera: String? = nil) throws -> (CameraInventory, RecordingStore, Actor) {
        let (inventory, store) = try open(access)
        let actor = try authorize(store, permission, camera: camera)
        return (inventory, store, actor)
    }

    func authorize(_ store: RecordingStore, _ permission: Permission, camera: String? = nil) throws -> Actor {
        try authorizeLocal(store, permission, camera: camera)
    }
}

/// The person at the keyboard, allowed `permission` (on `camera` when given), or a refusal
/// said, audited and exit 77.
func authorizeLocal(_ store: RecordingStore, _ permission: Permission, camera: String? = nil) throws -> Actor {
    let refusal: String
    let who: String
    switch AccessPolicy.localActor(unixUser: unixUser, accounts: try store.catalog.accounts()) {
    case .failure(let error):
        refusal = error.description
        who = "unix:\(unixUser)"
    case .success(let actor):
        guard let why = AccessPolicy.refusal(actor, permission, camera: camera) else { return actor }
        refusal = why
        who = actor.name
    }
    auditRefusal(store, who: who, permission: permission, camera: camera, why: refusal)
    printError("vigie: refused: \(refusal)")
    throw ExitCode(77)  // EX_NOPERM
}

/// Writes a refused action to the audit log, through a writable handle when the command
/// only reads; on read-only media the refusal is only said.
func auditRefusal(_ store: RecordingStore, who: String, permission: Permission, camera: String?, why: String) {
    let writable = store.access == .readWrite ? store : try? RecordingStore(root: store.root, access: .readWrite)
    writable?.audit.record(OperatorEvent(who: who, action: .accessRefused, cameraID: camera, detail: "\(permission.rawValue): \(why)"))
}

func parseLocal(_ text: String, _ zone: TimeZone, option: String) throws -> Date {
    do {
        return try LocalTime.parse(text, timeZone: zone)
    } catch {
        throw ValidationError("\(option): \(error.description)")
    }
}

/// Refuses free text typed on the command line (a hold's reference, a reason) that holds
/// control characters: it would reach the screens of whoever reads the audit log.
func checkTyped(_ text: String, option: String) throws {
    if let (position, problem) = TerminalText.firstProblem(in: text) {
        throw ValidationError("\(option) contains \(problem) at character \(position)")
    }
    if text.count > 1000 { throw ValidationError("\(option) is \(text.count) characters long; at most 1000") }
}
