import ArgumentParser
import Foundation
import RecorderCore

struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold", abstract: "Judicial holds: footage they cover is never destroyed until released.",
        subcommands: [HoldAdd.self, HoldList.self, HoldRelease.self])
}

struct HoldAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Hold footage for a requisition.")

    @OptionGroup var storageOptions: StorageOptions
    @Option(help: "The requisition's reference (number).") var reference: String
    @Option(help: "Camera ids, comma separated, or `all`.") var cameras: String
    @Option(help: "From (local time, YYYY-MM-DD HH:MM:SS).") var from: String
    @Option(help: "To (local time).") var to: String
    @Option(help: "Why (the requisition's object).") var reason: String

    func validate() throws {
        try checkTyped(reference, option: "--reference")
        try checkTyped(reason, option: "--reason")
        guard !reference.trimmingCharacters(in: .whitespaces).isEmpty, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--reference and --reason must not be empty")
        }
    }

    func run() throws {
        let (inventory, store, actor) = try storageOptions.open(for: .holds)
        let zone = inventory.site.timeZone
        let start = try parseLocal(from, zone, option: "--from"), end = try parseLocal(to, zone, option: "--to")
        guard end > start else { throw ValidationError("--to must be after --from") }
        // Cameras by id or number, stored by id (what footage rows carry); a camera no longer in
        // the site file but with footage kept can be held too.
        let recorded = Set(try store.catalog.usage().map(\.camera))
        var ids: [String] = []
        for given in cameras == "all" ? [] : cameras.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if let camera = inventory.camera(given) {
                ids.append(camera.id)
            } else if recorded.contains(given) {
                ids.append(given)
            } else {
                printError("vigie hold add: no camera `\(given)` in \(inventory.file) nor in the recordings")
                throw ExitCode(64)
            }
        }
        // An account limited to some cameras holds only those (`all` means all of them).
        for id in ids.isEmpty ? inventory.cameras.map(\.id) : ids { _ = try storageOptions.authorize(store, .holds, camera: id) }
        let hold = try store.catalog.addHold(
            Hold(reference: reference, cameras: ids, start: start, end: end, reason: reason, createdBy: actor.name, createdAt: Date()))
        try store.audit.append(
            OperatorEvent(
                who: actor.name, action: .holdAdded, cameraID: ids.count == 1 ? ids[0] : nil,
                detail: "hold \(hold.id) \(reference) cameras \(ids.isEmpty ? "all" : ids.joined(separator: ","))", from: start, to: end,
                reason: reason))
        print("hold \(hold.id) (\(reference)) added")
    }
}

struct HoldList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Holds in force (with --all, released ones too).",
        discussion: "Reads only: works on a full disk and on write-protected media.")

    @OptionGroup var storageOptions: StorageOptions
    @Flag(help: "Released holds too.") var all = false

    func run() throws {
        let (inventory, store, _) = try storageOptions.open(.readOnly, for: .readHolds)
        let zone = inventory.site.timeZone
        let holds = try store.catalog.holds(includeReleased: all)
        if holds.isEmpty { print("no hold") }
        for hold in holds {
            var line = "\(hold.id)  \(hold.reference)  \(hold.cameras.isEmpty ? "all cameras" : hold.cameras.joined(separator: ","))  "
            line += "\(LocalTime.format(hold.start, timeZone: zone)) to \(LocalTime.format(hold.end, timeZone: zone))  "
            line += "by \(hold.createdBy) on \(LocalTime.format(hold.createdAt, timeZone: zone))  \"\(hold.reason)\""
            if let released = hold.releasedAt { line += "  released by \(hold.releasedBy ?? "?") on \(LocalTime.format(released, timeZone: zone))" }
            print(line)
        }
    }
}

struct HoldRelease: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "release", abstract: "Release a hold: its footage follows retention again.")

    @OptionGroup var storageOptions: StorageOptions
    @Argument(help: "The hold's number (see `vigie hold list`).") var id: Int64
    @Option(help: "Why it is released.") var reason: String

    func validate() throws { try checkTyped(reason, option: "--reason") }

    func run() throws {
        let (_, store, actor) = try storageOptions.open(for: .holds)
        guard let hold = try store.catalog.releaseHold(id: id, by: actor.name, at: Date()) else {
            printError("vigie hold release: no hold \(id) in force")
            throw ExitCode(64)
        }
        try store.audit.append(
            OperatorEvent(
                who: actor.name, action: .holdReleased, detail: "hold \(hold.id) \(hold.reference)", from: hold.start, to: hold.end, reason: reason))
        print("hold \(hold.id) (\(hold.reference)) released")
    }
}
