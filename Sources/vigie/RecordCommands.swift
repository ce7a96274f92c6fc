import ArgumentParser
import Foundation
import Logging
import Media
import RecorderCore

/// Options of the commands that work on a site's recordings.
struct StorageOptions: ParsableArguments {
    @OptionGroup var siteOptions: SiteOptions

    @Option(help: "Recordings folder (default: $VIGIE_STORAGE, else ~/.local/share/vigie/recordings/SITE).")
    var storage: String?

    func open() throws -> (CameraInventory, RecordingStore) {
        let inventory = try SiteLocator.load(siteOptions.site)
        let root = RecordingStore.root(given: storage, siteName: inventory.site.name)
        do {
            return (inventory, try RecordingStore(root: root))
        } catch {
            printError("vigie: \(error)")
            throw ExitCode(74)  // EX_IOERR
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

struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record every camera's main stream into segments, with the catalog, retention and holds.",
        discussion: """
            Stream copy (no re-encoding) into MPEG-TS segments of about a minute cut on keyframes, \
            STORAGE/CAMERA/YYYY-MM-DD/HHMMSS.ts (UTC). Footage past its retention is destroyed \
            continuously unless a hold covers it. SIGTERM or Ctrl-C closes the segments cleanly; after a \
            crash the next start recovers partial segments.
            """
    )

    @OptionGroup var storageOptions: StorageOptions

    @Option(help: "Only cameras whose id matches this glob (default: all).")
    var cameras: String?

    @Option(help: "Segment length in seconds (cut at the first keyframe after it).")
    var segmentSeconds: Double = 60

    @Option(help: "Stop after this many seconds (benchmarks, tests).")
    var duration: Double?

    @Option(help: "Seconds between retention passes.")
    var retentionEvery: Double = 10

    func validate() throws {
        if !(2...600).contains(segmentSeconds) { throw ValidationError("--segment-seconds is 2 to 600") }
    }

    func run() throws {
        LogSetup.toStandardError(level: storageOptions.siteOptions.level)
        let (inventory, store) = try storageOptions.open()
        let ids = inventory.cameras.map(\.id).filter { cameras == nil || fnmatch(cameras!, $0, 0) == 0 }
        guard !ids.isEmpty else {
            printError("vigie record: no camera matches `\(cameras ?? "")`")
            throw ExitCode(64)
        }
        let core = RecorderCore(inventory: inventory)
        let recorder = Recorder(core: core, store: store, segmentSeconds: segmentSeconds, who: currentUser)
        let stop = SignalFlag.install()
        let report: RecoveryReport
        do {
            report = try recorder.start(cameraIDs: ids, retentionEvery: retentionEvery)
        } catch {
            printError("vigie record: \(error)")
            throw ExitCode(74)
        }
        if !report.isEmpty { printError("vigie record: recovered after an unclean stop: \(report)") }
        printError("vigie record: recording \(ids.count) camera(s) into \(store.root.path)")
        let started = MonotonicClock.seconds()
        let statusPath = store.root.appendingPathComponent("recorder.status").path
        while !stop.isSet {
            if let duration, MonotonicClock.seconds() - started >= duration { break }
            RecorderStatusFile.write(path: statusPath, statuses: recorder.statuses(), feeds: core.statuses(), alerts: recorder.retentionNotMet)
            stop.wait(seconds: 2)
        }
        recorder.stop()
        core.shutdown()
        try? FileManager.default.removeItem(atPath: statusPath)
        let statuses = recorder.statuses()
        printError(
            "vigie record: stopped; \(statuses.reduce(0) { $0 + $1.segmentsWritten }) segments, \(statuses.reduce(Int64(0)) { $0 + $1.bytesWritten }) bytes, \(statuses.reduce(0) { $0 + $1.packetsDropped }) packets dropped"
        )
    }
}

/// The running recorder's state, written every 2 s beside the catalog for `vigie recorder status`.
enum RecorderStatusFile {
    static func write(path: String, statuses: [CameraRecordingStatus], feeds: [FeedStatus], alerts: [String: Date]) {
        let feedByCamera = Dictionary(feeds.filter { $0.stream == "main" }.map { ($0.cameraID, $0) }, uniquingKeysWith: { a, _ in a })
        var lines = ["pid \(getpid())", "updated \(Date().timeIntervalSince1970)"]
        for status in statuses {
            let feed = feedByCamera[status.cameraID]
            let state: String
            switch feed?.state {
            case .live?: state = "live"
            case .connecting?, .stopped?, nil: state = "connecting"
            case .lost?, .reconnecting?: state = "lost"
            }
            lines.append(
                [
                    "camera", status.cameraID, state, status.recording ? "recording" : "idle", String(Int(feed?.bitsPerSecond ?? 0)),
                    status.segmentPath ?? "-", String(status.packetsDropped), alerts[status.cameraID].map { String($0.timeIntervalSince1970) } ?? "-",
                ].joined(separator: "\t"))
        }
        let temporary = path + ".tmp"
        if (try? (lines.joined(separator: "\n") + "\n").write(toFile: temporary, atomically: false, encoding: .utf8)) != nil {
            rename(temporary, path)
        }
    }
}

struct RecorderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recorder", abstract: "The recorder's state.", subcommands: [RecorderStatus.self])
}

struct RecorderStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per camera: state, bit rate, last segment, storage used, oldest footage kept.")

    @OptionGroup var storageOptions: StorageOptions

    func run() throws {
        let (inventory, store) = try storageOptions.open()
        let zone = inventory.site.timeZone
        let usage = Dictionary(uniqueKeysWithValues: try store.catalog.usage().map { ($0.camera, $0) })
        var running: [String: [String]] = [:]
        var updated: Date? = nil
        if let text = try? String(contentsOf: store.root.appendingPathComponent("recorder.status"), encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                if line.hasPrefix("updated "), let seconds = Double(line.dropFirst(8)) { updated = Date(timeIntervalSince1970: seconds) }
                if fields.first == "camera", fields.count >= 8 { running[fields[1]] = fields }
            }
        }
        let alive = updated.map { Date().timeIntervalSince($0) < 15 } ?? false
        print("Recordings in \(store.root.path)")
        print(alive ? "Recorder running (updated \(LocalTime.format(updated!, timeZone: zone)))" : "Recorder not running")
        let header = ["CAMERA", "STATE", "KBIT/S", "LAST SEGMENT", "STORED", "OLDEST KEPT", "RETENTION"]
        var rows: [[String]] = [header]
        for camera in inventory.cameras {
            let fields = alive ? running[camera.id] : nil
            let kept = usage[camera.id]
            let last = try store.catalog.segment(camera: camera.id, before: .distantFuture)
            var retention = "\(inventory.retentionDays(camera: camera.id)) d"
            if let fields, fields[7] != "-" { retention += " NOT MET (quota)" }
            rows.append([
                camera.id,
                fields.map { "\($0[2])\($0[3] == "recording" ? ", REC" : "")" } ?? "-",
                fields.map { String((Int($0[4]) ?? 0) / 1000) } ?? "-",
                last.map { "\($0.path) (\($0.state.rawValue))" } ?? "-",
                kept.map { Self.size($0.bytes) } ?? "0",
                kept?.oldest.map { LocalTime.format($0, timeZone: zone) } ?? "-",
                retention,
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        let total = usage.values.reduce(Int64(0)) { $0 + $1.bytes }
        print("Total \(Self.size(total))\(inventory.site.storageQuota.map { " (quota \($0))" } ?? "")")
    }

    static func size(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(bytes), unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}

struct Recordings: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and check recorded segments.", subcommands: [RecordingsList.self, RecordingsVerify.self])
}

struct RecordingsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Segments and gaps of a camera (local times).")

    @OptionGroup var storageOptions: StorageOptions
    @Argument(help: "Camera id.") var camera: String
    @Option(help: "From (local time, YYYY-MM-DD HH:MM:SS).") var from: String?
    @Option(help: "To (local time).") var to: String?

    func run() throws {
        let (inventory, store) = try storageOptions.open()
        let zone = inventory.site.timeZone
        let start = try from.map { try parseLocal($0, zone, option: "--from") }
        let end = try to.map { try parseLocal($0, zone, option: "--to") }
        for segment in try store.catalog.segments(camera: camera, from: start, to: end) {
            print(
                "\(LocalTime.format(segment.start, timeZone: zone, offset: true))  \(String(format: "%6.1f s", segment.duration))  \(RecorderStatus.size(segment.bytes))  \(segment.keyframes.count) keyframes  \(segment.state.rawValue)  \(segment.path)"
            )
        }
        for gap in try store.catalog.gaps(camera: camera, from: start ?? .distantPast, to: end ?? .distantFuture) {
            print("gap \(LocalTime.format(gap.start, timeZone: zone)) to \(LocalTime.format(gap.end, timeZone: zone)): \(gap.reason)")
        }
    }
}

struct RecordingsVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check hashes, durations and continuity of the recordings against the catalog.",
        discussion: "Exits 0 when everything matches, 1 with one line per problem otherwise.")

    @OptionGroup var storageOptions: StorageOptions
    @Option(help: "Only this camera.") var camera: String?

    func run() throws {
        let (_, store) = try storageOptions.open()
        let problems = try Recorder.verify(store: store, camera: camera)
        let count = try store.catalog.segments(camera: camera, from: nil, to: nil).count
        for problem in problems { print(problem) }
        if problems.isEmpty {
            print("\(count) segment(s) checked: files, hashes, durations and continuity match the catalog")
        } else {
            print("\(problems.count) problem(s) in \(count) segment(s)")
            throw ExitCode(1)
        }
    }
}

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

    func run() throws {
        let (inventory, store) = try storageOptions.open()
        let zone = inventory.site.timeZone
        let start = try parseLocal(from, zone, option: "--from"), end = try parseLocal(to, zone, option: "--to")
        guard end > start else { throw ValidationError("--to must be after --from") }
        let ids = cameras == "all" ? [] : cameras.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for id in ids where inventory.camera(id) == nil {
            printError("vigie hold add: no camera `\(id)` in \(inventory.file)")
            throw ExitCode(64)
        }
        guard !reference.trimmingCharacters(in: .whitespaces).isEmpty, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("--reference and --reason must not be empty")
        }
        let hold = try store.catalog.addHold(
            Hold(reference: reference, cameras: ids, start: start, end: end, reason: reason, createdBy: currentUser, createdAt: Date()))
        try store.audit.append(
            OperatorEvent(
                who: currentUser, action: .holdAdded, cameraID: ids.count == 1 ? ids[0] : nil,
                detail: "hold \(hold.id) \(reference) cameras \(ids.isEmpty ? "all" : ids.joined(separator: ","))", from: start, to: end,
                reason: reason))
        print("hold \(hold.id) (\(reference)) added")
    }
}

struct HoldList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Holds in force (with --all, released ones too).")

    @OptionGroup var storageOptions: StorageOptions
    @Flag(help: "Released holds too.") var all = false

    func run() throws {
        let (inventory, store) = try storageOptions.open()
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

    func run() throws {
        let (_, store) = try storageOptions.open()
        guard let hold = try store.catalog.releaseHold(id: id, by: currentUser, at: Date()) else {
            printError("vigie hold release: no hold \(id) in force")
            throw ExitCode(64)
        }
        try store.audit.append(
            OperatorEvent(
                who: currentUser, action: .holdReleased, detail: "hold \(hold.id) \(hold.reference)", from: hold.start, to: hold.end, reason: reason))
        print("hold \(hold.id) (\(hold.reference)) released")
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit log: every manipulation, chained so that no edit goes unseen.",
        subcommands: [AuditShow.self, AuditVerify.self])
}

struct AuditShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Entries of the audit log (local times).")

    @OptionGroup var storageOptions: StorageOptions
    @Option(help: "Only entries about this camera.") var camera: String?
    @Option(help: "Only entries since this local time.") var since: String?
    @Option(help: "Only entries by this person.") var who: String?

    func run() throws {
        let (inventory, store) = try storageOptions.open()
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
        discussion: "Exits 0 when the chain is whole, 1 otherwise.")

    @OptionGroup var storageOptions: StorageOptions

    func run() throws {
        let (_, store) = try storageOptions.open()
        let entries = try store.catalog.auditEntries(camera: nil, since: nil, who: nil)
        let problems = AuditVerifier.verify(entries, head: AuditLog.readHead(path: store.audit.headPath))
        for problem in problems { print(problem) }
        if problems.isEmpty {
            print("audit chain whole: \(entries.count) entries, head \(entries.last?.hash.prefix(16) ?? "-")")
        } else {
            print("audit chain BROKEN: \(problems.count) problem(s)")
            throw ExitCode(1)
        }
    }
}
