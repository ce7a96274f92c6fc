import ArgumentParser
import Foundation
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
    @Option(help: "Only entries about this camera.") var camera: String?
    @Option(help: "Only entries since this local time.") var since: String?
    @Option(help: "Only entries by this person.") var who: String?

    func run() throws {
        let (inventory, store) = try storageOptions.open(.readOnly)
        let zone = inventory.site.timeZone
        let start = try since.map { try parseLocal($0, zone, option: "--since") }
        for entry in try store.catalog.auditEntries(camera: camera, since: start, who: who) {
            let event = entry.event
            var line = "\(entry.sequence)  \(LocalTime.format(event.when, timeZone: zone, offset: true))  \(event.who)  \(event.action)"
            if let camera = event.cameraID { line += "  camera \(camera)" }
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
        commandName: "verify", abstract: "Check the audit chain: any edit, insertion or deletion is reported.",
        discussion: "Exits 0 when the chain is whole, 1 otherwise. Reads only: works on a full disk and on write-protected media.")

    @OptionGroup var storageOptions: StorageOptions

    func run() throws {
        let (inventory, store) = try storageOptions.open(.readOnly)
        let entries = try store.catalog.auditEntries(camera: nil, since: nil, who: nil)
        let problems = AuditVerifier.verify(entries, head: AuditLog.readHead(path: store.audit.headPath))
        for problem in problems { print(problem) }
        // A chain that starts again after a damaged catalog says so, and what was lost.
        for entry in entries where entry.event.action == .catalogRebuilt && entry.event.detail?.hasPrefix("catalog damaged") == true {
            print("note: entry \(entry.sequence) (\(LocalTime.format(entry.event.when, timeZone: inventory.site.timeZone))): \(entry.event.detail ?? "")")
        }
        if problems.isEmpty {
            print("audit chain whole: \(entries.count) entries, head \(entries.last?.hash.prefix(16) ?? "-")")
        } else {
            print("audit chain BROKEN: \(problems.count) problem(s)")
            throw ExitCode(1)
        }
    }
}
