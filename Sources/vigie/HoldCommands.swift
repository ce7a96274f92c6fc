import ArgumentParser
import Foundation
import RecorderAPI
import RecorderCore

struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold", abstract: "Judicial holds: footage they cover is never destroyed until released.",
        subcommands: [HoldAdd.self, HoldList.self, HoldRelease.self])
}

struct HoldAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Hold footage for a requisition.")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
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
        let (service, zone) = try remote.connect(storageOptions, access: .readWrite)
        let start = try parseLocal(from, zone, option: "--from"), end = try parseLocal(to, zone, option: "--to")
        guard end > start else { throw ValidationError("--to must be after --from") }
        let ids = cameras == "all" ? [] : cameras.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let hold = try check("vigie hold add") { () throws(ServiceError) in
            try service.addHold(HoldRequest(reference: reference, cameras: ids, from: start, to: end, reason: reason))
        }
        print("hold \(hold.id) (\(hold.reference)) added")
    }
}

struct HoldList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Holds in force (with --all, released ones too).",
        discussion: "Reads only: works on a full disk and on write-protected media.")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Flag(help: "Released holds too.") var all = false

    func run() throws {
        let (service, zone) = try remote.connect(storageOptions, access: .readOnly)
        let holds = try check("vigie hold list") { () throws(ServiceError) in try service.holds(includeReleased: all) }
        if holds.isEmpty { print("no hold") }
        for hold in holds {
            var line = "\(hold.id)  \(hold.reference)  \(hold.cameras.isEmpty ? "all cameras" : hold.cameras.joined(separator: ","))  "
            line += "\(LocalTime.format(hold.from, timeZone: zone)) to \(LocalTime.format(hold.to, timeZone: zone))  "
            line += "by \(hold.createdBy) on \(LocalTime.format(hold.createdAt, timeZone: zone))  \"\(hold.reason)\""
            if let released = hold.releasedAt { line += "  released by \(hold.releasedBy ?? "?") on \(LocalTime.format(released, timeZone: zone))" }
            print(line)
        }
    }
}

struct HoldRelease: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "release", abstract: "Release a hold: its footage follows retention again.")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Argument(help: "The hold's number (see `vigie hold list`).") var id: Int64
    @Option(help: "Why it is released.") var reason: String

    func validate() throws { try checkTyped(reason, option: "--reason") }

    func run() throws {
        let (service, _) = try remote.connect(storageOptions, access: .readWrite)
        let hold = try check("vigie hold release") { () throws(ServiceError) in try service.releaseHold(id: id, reason: reason) }
        print("hold \(hold.id) (\(hold.reference)) released")
    }
}
