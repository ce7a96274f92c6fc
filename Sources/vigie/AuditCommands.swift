import ArgumentParser
import Foundation
import RecorderAPI
import RecorderCore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit log: every manipulation, chained so that no edit goes unseen.",
        subcommands: [AuditShow.self, AuditVerify.self])
}

struct AuditShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Entries of the audit log (local times).",
        discussion: "Control characters in what was recorded are shown escaped (^[, <U+009B>), never sent to the terminal.")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Option(help: "Only entries about this camera.") var camera: String?
    @Option(help: "Only entries since this local time.") var since: String?
    @Option(help: "Only entries by this person.") var who: String?
    @Option(help: "Only entries under this requisition.") var requisition: String?

    func run() throws {
        let (service, zone) = try remote.connect(storageOptions, access: .readOnly)
        let start = try since.map { try parseLocal($0, zone, option: "--since") }
        let entries = try check("vigie audit show", { () throws(ServiceError) in try service.audit(camera: camera, since: start, who: who) })
        for event in entries where requisition == nil || event.requisition == requisition {
            var line = "\(event.sequence)  \(LocalTime.format(event.when, timeZone: zone, offset: true))  \(event.who)  \(event.action)"
            if let camera = event.camera { line += "  camera \(camera)" }
            if let requisition = event.requisition { line += "  requisition \(requisition)" }
            if let from = event.from {
                line += "  footage \(LocalTime.format(from, timeZone: zone))"
                if let to = event.to { line += " to \(LocalTime.format(to, timeZone: zone))" }
            }
            if let reason = event.reason { line += "  reason \"\(reason)\"" }
            if let detail = event.detail { line += "  (\(detail))" }
            print(line)
        }
    }
}

struct AuditVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check the audit chain: any edit, insertion, deletion or rewrite is reported.",
        discussion: """
            Every entry is chained to the one before and signed with the recorder's own key \
            (STORAGE/keys); the head kept outside the catalog is signed too. With --key, the \
            signatures must be those of the key an auditor wrote down (its fingerprint is printed \
            when the recorder makes it, and by `recorder status`), so that replacing the key pair \
            is caught as well. Exits 0 when the chain is whole, 1 otherwise. Reads only: works on \
            a full disk and on write-protected media.
            """)

    @OptionGroup var storageOptions: StorageOptions
    @Option(help: ArgumentHelp("The fingerprint of the recorder's audit key, as SHA256:HEX.", valueName: "fingerprint")) var key: String?

    func run() throws {
        if let key, !(key.hasPrefix("SHA256:") && key.count == 71 && key.dropFirst(7).allSatisfy(\.isHexDigit)) {
            throw ValidationError("--key takes a fingerprint SHA256: followed by 64 hex digits (`recorder status` prints it)")
        }
        let (inventory, store, _) = try storageOptions.open(.readOnly, for: .audit)
        let result = try store.audit.verify(pinned: key?.lowercased().replacingOccurrences(of: "sha256:", with: "SHA256:"))
        let zone = inventory.site.timeZone
        let shown = 50
        for problem in result.problems.prefix(shown) { print(problem) }
        if result.problems.count > shown { print("... and \(result.problems.count - shown) more problem(s)") }
        for note in result.notes { print("note: \(note)") }
        // A chain that starts again after a damaged catalog says so, and what was lost.
        for entry in try store.catalog.auditEntries(camera: nil, since: nil, who: nil)
        where entry.event.action == .catalogRebuilt && entry.event.detail?.hasPrefix("catalog damaged") == true {
            print("note: entry \(entry.sequence) (\(LocalTime.format(entry.event.when, timeZone: zone))): \(entry.event.detail ?? "")")
        }
        for fingerprint in result.signedBy.sorted() { print("signed by \(fingerprint)") }
        if let head = result.head, let signedAt = head.signedAt {
            print("head: entry \(head.sequence), signed \(LocalTime.format(signedAt, timeZone: zone, offset: true))")
        }
        if result.problems.isEmpty {
            print("audit chain whole: \(result.entries) entries, head \(result.head?.hash.prefix(16) ?? "-")")
        } else {
            print("audit chain BROKEN: \(result.problems.count) problem(s)")
            throw ExitCode(1)
        }
    }
}
