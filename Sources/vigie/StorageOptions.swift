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

/// The person at the keyboard: the Unix user until accounts exist.
var currentUser: String { ProcessInfo.processInfo.environment["USER"] ?? NSUserName() }

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
