import ArgumentParser
import Foundation
import RecorderAPI
import RecorderCore

struct RecorderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recorder", abstract: "The recorder's state.", subcommands: [RecorderStatus.self])
}

struct RecorderStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The storage, then per camera: state, bit rate, last segment, storage used, oldest footage kept.",
        discussion: "Reads only: works on a full disk and on write-protected media.")

    @OptionGroup var storageOptions: StorageOptions
    @OptionGroup var remote: ServiceOptions

    func run() throws {
        if remote.server != nil {
            try remoteStatus()
            return
        }
        let (inventory, store, _) = try storageOptions.open(.readOnly, for: .status)
        let zone = inventory.site.timeZone
        let usage = Dictionary(uniqueKeysWithValues: try store.catalog.usage().map { ($0.camera, $0) })
        let report = RecorderStatusReport.read(from: store.statusPath)
        let running = store.isRecorderRunning
        let alive = running && report.map { Date().timeIntervalSince($0.updated) < RecorderStatusReport.staleAfter } == true
        print("Recordings in \(store.root.path)")
        if let report, alive {
            print("Recorder running, pid \(report.pid) (updated \(LocalTime.format(report.updated, timeZone: zone)))")
            let storage = report.storage
            print(
                "Disk \(Self.size(storage.diskBytes)), \(Self.size(storage.freeBytes)) free (kept free: \(Self.size(storage.floorBytes))), writing \(Self.size(Int64(storage.writeBytesPerSecond)))/s; catalog reserve \(Self.size(storage.catalogReserveBytes))"
            )
            if let since = storage.pausedSince {
                print("ALERT: RECORDING PAUSED since \(LocalTime.format(since, timeZone: zone)): the disk is full and only held footage is left")
            }
            if storage.destroyedForSpace > 0 { print("\(storage.destroyedForSpace) oldest segment(s) destroyed to keep recording on a full disk") }
            if let rebuilt = storage.rebuilt { print("ALERT: \(rebuilt)") }
            if let indexing = storage.indexing { print("Catalog rebuild: \(indexing)") }
            if let backup = storage.lastBackup { print("Catalog backed up \(LocalTime.format(backup, timeZone: zone))") }
            if let problem = storage.backupProblem { print("Warning: \(problem)") }
            if storage.quarantinedFiles > 0 { print("\(storage.quarantinedFiles) foreign file(s) kept apart in \(store.quarantine.path)") }
        } else {
            print(running ? "Recorder running (no status yet)" : "Recorder not running")
        }
        let byCamera = Dictionary((alive ? report?.cameras ?? [] : []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let header = ["CAMERA", "STATE", "KBIT/S", "LAST SEGMENT", "STORED", "OLDEST KEPT", "RETENTION"]
        var rows: [[String]] = [header]
        var notes: [String] = []
        for camera in inventory.cameras {
            let status = byCamera[camera.id]
            let kept = usage[camera.id]
            let last = try store.catalog.segment(camera: camera.id, before: .distantFuture)
            var retention = "\(inventory.retentionDays(camera: camera.id)) d"
            if status?.retentionNotMetSince != nil { retention += " NOT MET" }
            rows.append([
                camera.id,
                status.map(Self.state) ?? "-",
                status.map { String(Int($0.bitsPerSecond) / 1000) } ?? "-",
                last.map { "\($0.path) (\($0.state.rawValue))" } ?? "-",
                kept.map { Self.size($0.bytes) } ?? "0",
                kept?.oldest.map { LocalTime.format($0, timeZone: zone) } ?? "-",
                retention,
            ])
            if let status, !status.recording, let why = status.interruption { notes.append("\(camera.id): not recording: \(why)") }
            if let error = status?.lastError { notes.append("\(camera.id): last error: \(error)") }
            if let sub = status?.sub, !sub.recording, let why = sub.interruption { notes.append("\(camera.id): sub stream not recording: \(why)") }
            if let error = status?.sub?.lastError { notes.append("\(camera.id): sub stream: last error: \(error)") }
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        for note in notes { print(note) }
        let keys = AuditKeyFolder(storage: store.root)
        let current = (try? keys.load())?.map(\.id)
        for (id, key) in keys.publicKeys().sorted(by: { $0.key < $1.key }) {
            print("Audit log signing key \(AuditSigningKey.fingerprint(of: key))\(id == current ? " (in use)" : "")")
        }
        let total = usage.values.reduce(Int64(0)) { $0 + $1.bytes }
        print("Total \(Self.size(total))\(inventory.site.storageQuota.map { " (quota \($0))" } ?? "")")
    }

    /// What a remote recorder says of itself.
    private func remoteStatus() throws {
        let (service, zone) = try remote.connect(storageOptions, access: .readOnly)
        let bytes = try check("vigie recorder status") { () throws(ServiceError) in try service.status() }
        guard let report = try? API.decode(RecorderStatusReport.self, from: bytes) else {
            printError("vigie recorder status: the recorder's status is not what the protocol says")
            throw ExitCode(76)
        }
        let storage = report.storage
        print("Recorder at \(remote.server ?? ""), pid \(report.pid) (updated \(LocalTime.format(report.updated, timeZone: zone)))")
        print("Disk \(Self.size(storage.diskBytes)), \(Self.size(storage.freeBytes)) free (kept free: \(Self.size(storage.floorBytes)))")
        if let since = storage.pausedSince {
            print("ALERT: RECORDING PAUSED since \(LocalTime.format(since, timeZone: zone)): the disk is full and only held footage is left")
        }
        if let rebuilt = storage.rebuilt { print("ALERT: \(rebuilt)") }
        for camera in report.cameras {
            print("\(camera.id)  \(Self.state(camera))  \(Int(camera.bitsPerSecond) / 1000) kbit/s  \(camera.segment ?? "-")")
        }
    }

    /// "live, REC", and the sub stream's when it is recorded too: "live, REC; sub live, REC".
    static func state(_ camera: RecorderStatusReport.Camera) -> String {
        let main = "\(camera.feed)\(camera.recording ? ", REC" : "")"
        guard let sub = camera.sub else { return main }
        return main + "; sub \(sub.feed)\(sub.recording ? ", REC" : "")"
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
