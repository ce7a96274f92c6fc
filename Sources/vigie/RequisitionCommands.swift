import ArgumentParser
import Foundation
import RecorderAPI
import RecorderCore

struct RequisitionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requisition",
        abstract: "Judicial requisitions: the footage they ask for is held at once, consulted and exported under them.",
        discussion: """
            A requisition (réquisition) comes from the public prosecutor or a judicial police \
            officer under article 60-1, 77-1-1 or 99-3 of the code of criminal procedure. Entering \
            it holds its cameras' footage for its period; playback and exports of that footage are \
            logged with its number. Closing it ends consultation; its holds are released only \
            when a supervisor confirms (`close --release`, or `release` later).
            """,
        subcommands: [RequisitionAdd.self, RequisitionList.self, RequisitionShow.self, RequisitionExtend.self, RequisitionClose.self, RequisitionRelease.self])
}

/// Cameras as typed: ids or numbers, comma separated, or `all` (empty).
func cameraList(_ text: String) -> [String] {
    text == "all" ? [] : text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

struct RequisitionAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Enter a requisition (its footage is held at once).")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Option(help: "The procedure or PV number.") var number: String
    @Option(help: "Who requires it: prosecutor or OPJ, with name and service.") var authority: String
    @Option(help: "Article of the code of criminal procedure: 60-1, 77-1-1 or 99-3.") var basis: String
    @Option(help: "Camera ids or numbers, comma separated, or `all`.") var cameras: String
    @Option(help: "From (local time, YYYY-MM-DD HH:MM:SS).") var from: String
    @Option(help: "To (local time).") var to: String
    @Option(help: "When it was received (local time; default now).") var received: String?
    @Option(help: "By when it must be answered (local time).") var deadline: String?

    func validate() throws {
        if let problem = Requisition.problem(number: number) { throw ValidationError("--number: \(problem)") }
        try checkTyped(authority, option: "--authority")
        if authority.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--authority must not be empty") }
        if LegalBasis(rawValue: basis) == nil { throw ValidationError("--basis is 60-1, 77-1-1 or 99-3 (code of criminal procedure)") }
        if cameraList(cameras).isEmpty && cameras != "all" { throw ValidationError("--cameras lists camera ids or numbers, or is `all`") }
    }

    func run() throws {
        let (service, zone) = try remote.connect(storageOptions, access: .readWrite)
        let start = try parseLocal(from, zone, option: "--from"), end = try parseLocal(to, zone, option: "--to")
        guard end > start else { throw ValidationError("--to must be after --from") }
        let receivedAt = try received.map { try parseLocal($0, zone, option: "--received") }
        let due = try deadline.map { try parseLocal($0, zone, option: "--deadline") }
        let request = RequisitionRequest(
            number: number, authority: authority, basis: basis, cameras: cameraList(cameras), from: start, to: end, received: receivedAt, deadline: due)
        let entered = try check("vigie requisition add") { () throws(ServiceError) in try service.addRequisition(request) }
        print("requisition \(entered.number) entered; footage held (hold \(entered.holds.map(String.init).joined(separator: ", ")))")
    }
}

struct RequisitionList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The requisitions, oldest first.")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Flag(help: "Closed ones too.") var all = false

    func run() throws {
        let (service, zone) = try remote.connect(storageOptions, access: .readOnly)
        let list = try check("vigie requisition list") { () throws(ServiceError) in try service.requisitions() }.filter { all || $0.status != "closed" }
        if list.isEmpty { print(all ? "no requisition" : "no requisition open (--all for closed ones)") }
        for item in list {
            var line = "\(item.number)  \(item.status)  CPP \(item.basis)  \(item.authority)  received \(LocalTime.format(item.received, timeZone: zone))"
            if let deadline = item.deadline { line += "  due \(LocalTime.format(deadline, timeZone: zone))" }
            line += "  \(item.transmissions.count) export(s)  by \(item.createdBy)"
            print(line)
        }
    }
}

struct RequisitionShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One requisition: its scopes, holds and exports.")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Argument(help: "Its number.") var number: String

    func run() throws {
        let (service, zone) = try remote.connect(storageOptions, access: .readOnly)
        let item = try check("vigie requisition show") { () throws(ServiceError) in try service.requisition(number: number) }
        func time(_ date: Date) -> String { LocalTime.format(date, timeZone: zone, offset: true) }
        print("requisition \(item.number): \(item.status)")
        print("  authority: \(item.authority)")
        print("  basis:     CPP art. \(item.basis)")
        print("  received:  \(time(item.received))")
        if let deadline = item.deadline { print("  deadline:  \(time(deadline))") }
        print("  entered:   by \(item.createdBy) on \(time(item.createdAt))")
        for scope in item.scopes {
            print("  footage:   \(scope.cameras.isEmpty ? "all cameras" : scope.cameras.joined(separator: ",")) from \(time(scope.from)) to \(time(scope.to))")
        }
        print("  holds:     \(item.holds.isEmpty ? "none in force" : item.holds.map(String.init).joined(separator: ", "))")
        if let closed = item.closedAt { print("  closed:    by \(item.closedBy ?? "?") on \(time(closed))") }
        if let released = item.holdsReleasedAt { print("  released:  by \(item.holdsReleasedBy ?? "?") on \(time(released))") }
        for transmission in item.transmissions {
            print(
                "  export:    \(time(transmission.at)) by \(transmission.by) to \(transmission.recipient) on \(transmission.medium): \(transmission.files) file(s), \(transmission.bytes) bytes, manifest SHA-256 \(transmission.manifestSHA256)"
            )
        }
    }
}

struct RequisitionExtend: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "extend", abstract: "Add cameras and a period to a requisition (held at once).")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Argument(help: "Its number.") var number: String
    @Option(help: "Camera ids or numbers, comma separated, or `all`.") var cameras: String
    @Option(help: "From (local time).") var from: String
    @Option(help: "To (local time).") var to: String

    func run() throws {
        let (service, zone) = try remote.connect(storageOptions, access: .readWrite)
        let start = try parseLocal(from, zone, option: "--from"), end = try parseLocal(to, zone, option: "--to")
        guard end > start else { throw ValidationError("--to must be after --from") }
        let item = try check("vigie requisition extend") { () throws(ServiceError) in
            try service.extendRequisition(number: number, scope: ScopeInfo(cameras: cameraList(cameras), from: start, to: end))
        }
        print("requisition \(item.number) extended; holds \(item.holds.map(String.init).joined(separator: ", "))")
    }
}

struct RequisitionClose: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close", abstract: "Close a requisition: no more consultation; --release (a supervisor) releases its holds too.")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Argument(help: "Its number.") var number: String
    @Option(help: "Why (answered, withdrawn...).") var reason: String
    @Flag(help: "Release its holds as well (a supervisor's confirmation).") var release = false

    func validate() throws { try checkTyped(reason, option: "--reason") }

    func run() throws {
        let (service, _) = try remote.connect(storageOptions, access: .readWrite)
        let item = try check("vigie requisition close") { () throws(ServiceError) in try service.closeRequisition(number: number, reason: reason, release: release) }
        print(
            item.holds.isEmpty
                ? "requisition \(item.number) closed; its holds are released"
                : "requisition \(item.number) closed; its footage stays held until a supervisor releases it (vigie requisition release \(item.number))")
    }
}

struct RequisitionRelease: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "release", abstract: "Release the holds of a closed requisition (supervisors).")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions
    @Argument(help: "Its number.") var number: String
    @Option(help: "Why.") var reason: String

    func validate() throws { try checkTyped(reason, option: "--reason") }

    func run() throws {
        let (service, _) = try remote.connect(storageOptions, access: .readWrite)
        let item = try check("vigie requisition release") { () throws(ServiceError) in try service.releaseRequisition(number: number, reason: reason) }
        print("requisition \(item.number): holds released; its footage follows retention again")
    }
}
