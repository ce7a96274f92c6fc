import Foundation
import RecorderCore
import TestSupport
import Testing

/// The recorder on storage that fails: a real small file system that fills up, a catalog
/// damaged three ways, read-only media, a lock file deleted under a running recorder.
@Suite(.serialized) struct StorageFaultTests {
    static let dateFormat: DateFormatter = {
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "Europe/Paris")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter
    }()

    func auditActions(_ common: [String]) throws -> [String] {
        try TestSites.vigie(["audit", "show"] + common).stdout.split(separator: "\n").map { String($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst(5).first ?? "") }
    }

    @Test func aFullDiskNeverStopsRecordingWhileUnheldFootageIsLeftAndPausesLoudlyWhenOnlyHeldFootageIs() throws {
        let disk = try TemporaryFileSystem(megabytes: 24, name: "full-disk")
        defer { disk.unmount() }
        let site = try TestSites.simulated(["a", "b", "c"], in: TestPaths.temporaryFolder("full-disk-site"))
        let storage = disk.mountPoint.appendingPathComponent("storage").path
        let common = ["--site", site.path, "--storage", storage]
        let catalog = storage + "/catalog.sqlite"

        // 1. Three 720p cameras for 30 s (about 26 MB) on a 24 MB disk.
        let first = try TestSites.vigie(["record"] + common + ["--segment-seconds", "4", "--duration", "30"])
        let stopped = Date()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(!first.stderr.contains("cannot write") && !first.stderr.contains("PAUSED") && !first.stderr.contains("refused"), "\(first.stderr)")
        let destroyedForSpace = Int(sqlite(catalog, "SELECT COUNT(*) FROM destructions WHERE reason = 'storage full' AND destroyed_us IS NOT NULL")) ?? 0
        #expect(destroyedForSpace > 0, "the disk never filled: the test proves nothing")
        for camera in ["a", "b", "c"] {
            // Recorded all the time: the only gaps are the recorder's own stop; every second is a segment or a destruction.
            let gaps = sqlite(catalog, "SELECT reason FROM gaps WHERE camera = '\(camera)'").split(separator: "\n")
            #expect(gaps.allSatisfy { $0 == "recorder stopping" }, "\(camera): \(gaps)")
            let last = Double(sqlite(catalog, "SELECT MAX(end_us) FROM segments WHERE camera = '\(camera)'")) ?? 0
            #expect(stopped.timeIntervalSince1970 - last / 1e6 < 3, "\(camera) recorded up to the stop")
        }
        #expect(sqlite(catalog, "SELECT COUNT(*) FROM segments WHERE state = 'open'") == "0")
        let verify = try TestSites.vigie(["recordings", "verify"] + common)
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(try TestSites.vigie(["audit", "verify"] + common).status == 0)
        #expect(try auditActions(common).suffix(1) == ["recorder.stop"])

        // 2. Everything held: the disk fills with held footage, recording pauses loudly, and
        // resumes by itself once the hold is released. Nothing held is destroyed.
        let now = Date()
        let added = try TestSites.vigie(
            ["hold", "add", "--reference", "PV-FULL", "--cameras", "all", "--from", Self.dateFormat.string(from: now.addingTimeInterval(-3600)),
             "--to", Self.dateFormat.string(from: now.addingTimeInterval(3600)), "--reason", "tout garder"] + common)
        #expect(added.status == 0, "\(added.stderr)")
        let destroyedBefore = sqlite(catalog, "SELECT COUNT(*) FROM destructions")
        let log = disk.mountPoint.deletingLastPathComponent().appendingPathComponent("full-disk-record-2.log").path
        let second = try TestSites.start(["record"] + common + ["--segment-seconds", "4", "--duration", "90"], log: log)
        let status = storage + "/recorder.status"
        #expect(eventually(timeout: 45, every: 0.5) { RecorderStatusReport.read(from: status)?.storage.pausedSince != nil }, "recording never paused")
        let metrics = (try? String(contentsOfFile: storage + "/metrics.prom", encoding: .utf8)) ?? ""
        #expect(eventually(timeout: 5) { ((try? String(contentsOfFile: storage + "/metrics.prom", encoding: .utf8)) ?? "").contains("vigie_recording_paused 1") }, "\(metrics)")
        let statusText = try TestSites.vigie(["recorder", "status"] + common)
        #expect(statusText.status == 0 && statusText.stdout.contains("RECORDING PAUSED"), "\(statusText.stdout)")
        #expect(try auditActions(common).contains("storage.pause"))
        Thread.sleep(forTimeInterval: 3)
        #expect(sqlite(catalog, "SELECT COUNT(*) FROM destructions") == destroyedBefore, "held footage was destroyed")
        let releasedAt = Date()
        #expect(try TestSites.vigie(["hold", "release", "1", "--reason", "classement"] + common).status == 0)
        #expect(eventually(timeout: 30, every: 0.5) { (try? auditActions(common).contains("storage.resume")) == true }, "recording never resumed")
        Thread.sleep(forTimeInterval: 6)
        second.kill(SIGTERM)
        #expect(second.wait() == 0)
        let early = Int(sqlite(catalog, "SELECT COUNT(*) FROM destructions WHERE destroyed_us < \(Int64(releasedAt.timeIntervalSince1970 * 1e6))")) ?? -1
        #expect(early == Int(destroyedBefore), "footage destroyed while held")
        for camera in ["a", "b", "c"] {
            let paused = sqlite(catalog, "SELECT COUNT(*) FROM gaps WHERE camera = '\(camera)' AND reason LIKE 'recording paused%'")
            #expect(paused == "1", "\(camera): \(paused) pause gap(s)")
            let after = sqlite(catalog, "SELECT COUNT(*) FROM segments WHERE camera = '\(camera)' AND start_us > \(Int64(releasedAt.timeIntervalSince1970 * 1e6))")
            #expect((Int(after) ?? 0) >= 1, "\(camera) records again after the release")
        }
        let verified = try TestSites.vigie(["recordings", "verify"] + common)
        #expect(verified.status == 0, "\(verified.stdout)")

        // 3. Full to the last byte (another program filled it): read-only commands work, and the
        // recorder starts anyway (its catalog commits in its own reserve) and makes room.
        let filler = disk.fill()
        #expect(disk.freeBytes < 64 << 10)
        for command in [["recordings", "verify"], ["audit", "verify"], ["recorder", "status"], ["hold", "list", "--all"], ["audit", "show"]] {
            let result = try TestSites.vigie(command + common)
            #expect(result.status == 0, "\(command) on a full disk: \(result.stdout) \(result.stderr)")
        }
        let third = try TestSites.vigie(["record"] + common + ["--segment-seconds", "4", "--duration", "10"])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(try auditActions(common).suffix(1) == ["recorder.stop"])
        #expect(try TestSites.vigie(["audit", "verify"] + common).status == 0)
        let final = try TestSites.vigie(["recordings", "verify"] + common)
        #expect(final.status == 0, "\(final.stdout)")
        unlink(filler.path)
    }

    @Test func theCatalogCommitsOnADiskWithNoByteLeft() throws {
        let disk = try TemporaryFileSystem(megabytes: 8, name: "catalog-reserve")
        defer { disk.unmount() }
        let catalog = try SQLiteCatalog(path: disk.mountPoint.appendingPathComponent("catalog.sqlite").path)
        let reserve = try catalog.ensureReserve(bytes: 1 << 20, logBytes: 1 << 20)
        #expect(reserve >= 1 << 20)
        disk.fill()
        #expect(disk.freeBytes < 64 << 10)
        // A few hours of a camera's rows and audit entries, with no free block on the disk.
        for index in 0..<2000 {
            let start = Date(timeIntervalSince1970: 1_800_000_000 + Double(index) * 60)
            let id = try catalog.insertSegment(SegmentRecord(camera: "cam", path: SegmentPath.make(camera: "cam", start: start), start: start, end: start))
            var closed = SegmentRecord(
                id: id, camera: "cam", path: SegmentPath.make(camera: "cam", start: start), start: start, end: start.addingTimeInterval(60),
                bytes: 15_000_000, sha256: String(repeating: "a", count: 64), keyframes: (0..<30).map { KeyframeMark(offset: Double($0) * 2, byte: Int64($0) * 500_000) },
                state: .closed)
            closed.skew = 0.01
            try catalog.updateSegment(closed)
            if index % 20 == 0 { _ = try catalog.appendAudit(OperatorEvent(who: "test", action: .playback, cameraID: "cam", detail: "\(index)"), signingKey: nil) }
        }
        #expect(try catalog.segments(camera: "cam", from: nil, to: nil).count == 2000)
        #expect(try catalog.reserveBytes() < reserve)
    }

    @Test func aDamagedCatalogIsSetAsideAndRebuiltAndRecordingGoesOn() throws {
        let folder = TestPaths.temporaryFolder("damaged")
        let site = try TestSites.simulated(["a", "b"], in: folder)
        let original = folder.appendingPathComponent("storage")
        let common = ["--site", site.path, "--storage", original.path]
        let log = folder.appendingPathComponent("record.log").path
        let recording = try TestSites.start(["record"] + common + ["--segment-seconds", "3", "--duration", "14"], log: log)
        Thread.sleep(forTimeInterval: 4)
        let hold = try TestSites.vigie(
            ["hold", "add", "--reference", "PV-7", "--cameras", "a", "--from", "2026-11-30 10:00:00", "--to", "2026-11-30 11:00:00", "--reason", "vol"] + common)
        #expect(hold.status == 0, "\(hold.stderr)")
        #expect(recording.wait() == 0)
        #expect(FileManager.default.fileExists(atPath: original.appendingPathComponent("catalog.backup.sqlite").path))
        let before = Int(sqlite(original.appendingPathComponent("catalog.sqlite").path, "SELECT COUNT(*) FROM segments")) ?? 0
        #expect(before >= 6)

        func damaged(_ name: String, keepBackup: Bool = true, _ damage: (URL) throws -> Void) throws -> (storage: URL, common: [String], sha: String) {
            let storage = folder.appendingPathComponent(name)
            #expect(try runProgram("/bin/cp", ["-a", original.path, storage.path]).status == 0)
            if !keepBackup { unlink(storage.appendingPathComponent("catalog.backup.sqlite").path) }
            let catalog = storage.appendingPathComponent("catalog.sqlite")
            try damage(catalog)
            let sha = try #require(RecordingStore.digest(of: catalog)).sha256
            return (storage, ["--site", site.path, "--storage", storage.path], sha)
        }
        let cases = [
            try damaged("truncated") { try FileHandle(forUpdating: $0).truncate(atOffset: 32_768) },
            try damaged("bit-flipped") { url in
                var bytes = try Data(contentsOf: url)
                var generator = SystemRandomNumberGenerator()
                for page in stride(from: 4096, to: bytes.count, by: 4096) { for offset in 0..<8 { bytes[page + offset] ^= UInt8.random(in: 1...255, using: &generator) } }
                try bytes.write(to: url)
            },
            try damaged("random") { url in
                let size = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int) ?? 65_536
                try Data((0..<size).map { _ in UInt8.random(in: 0...255) }).write(to: url)
            },
            try damaged("no-backup", keepBackup: false) { url in try Data((0..<65_536).map { _ in UInt8.random(in: 0...255) }).write(to: url) },
        ]
        // A catalog deleted beside its footage is a lost catalog, not a first start: nothing
        // is taken for foreign, the backup comes back.
        let missing = folder.appendingPathComponent("missing")
        #expect(try runProgram("/bin/cp", ["-a", original.path, missing.path]).status == 0)
        for suffix in ["", "-wal", "-shm"] { unlink(missing.appendingPathComponent("catalog.sqlite" + suffix).path) }
        let lost = try TestSites.vigie(["record", "--site", site.path, "--storage", missing.path, "--segment-seconds", "3", "--duration", "6"])
        #expect(lost.status == 0 && lost.stderr.contains("catalog lost (the catalog file is missing)"), "\(lost.stderr)")
        #expect(!FileManager.default.fileExists(atPath: missing.appendingPathComponent("quarantine").path))
        #expect((Int(sqlite(missing.appendingPathComponent("catalog.sqlite").path, "SELECT COUNT(*) FROM segments")) ?? 0) >= before)
        #expect(try TestSites.vigie(["hold", "list", "--site", site.path, "--storage", missing.path]).stdout.contains("PV-7"))
        for (storage, common, sha) in cases {
            let name = storage.lastPathComponent
            let run = try TestSites.vigie(["record"] + common + ["--segment-seconds", "3", "--duration", "8"])
            #expect(run.status == 0, "\(name): \(run.stderr)")
            #expect(run.stderr.contains("CATALOG DAMAGED, recording goes on"), "\(name): \(run.stderr)")
            // The damaged file is kept aside, named with its hash in the audit log; found damaged
            // on opening (cut short, not a database) it is kept exactly as it was found.
            let kept = try FileManager.default.contentsOfDirectory(atPath: storage.appendingPathComponent("damaged").path).filter { $0.hasSuffix(".sqlite") }
            #expect(kept.count == 1, "\(name): \(kept)")
            let keptSHA = kept.first.flatMap { RecordingStore.digest(of: storage.appendingPathComponent("damaged/\($0)"))?.sha256 } ?? "-"
            if name != "bit-flipped" { #expect(keptSHA == sha, "\(name): the damaged file was changed") }
            let audit = try TestSites.vigie(["audit", "show"] + common).stdout
            #expect(audit.contains("catalog.rebuild") && audit.contains("sha256 \(keptSHA)"), "\(name): \(audit)")
            let chain = try TestSites.vigie(["audit", "verify"] + common)
            #expect(chain.status == 0 && chain.stdout.contains("note: entry"), "\(name): \(chain.stdout)")
            // The footage from before is in the catalog again, and new footage was recorded.
            let after = sqlite(storage.appendingPathComponent("catalog.sqlite").path, "SELECT COUNT(*) FROM segments")
            #expect((Int(after) ?? 0) >= before + 2, "\(name): \(after) segments after, \(before) before")
            let verify = try TestSites.vigie(["recordings", "verify"] + common)
            #expect(verify.status == 0, "\(name): \(verify.stdout)")
            #expect(!FileManager.default.fileExists(atPath: storage.appendingPathComponent("rebuild.pending").path), "\(name): rebuild left unfinished")
            // The backup brought the hold back; without one the loss is said.
            let holds = try TestSites.vigie(["hold", "list"] + common).stdout
            if name == "no-backup" {
                #expect(holds.contains("no hold"))
                #expect(audit.contains("no usable backup"))
                #expect(audit.hasPrefix("1  "), "the chain starts again: \(audit)")
            } else {
                #expect(holds.contains("PV-7"), "\(name): \(holds)")
                #expect(audit.contains("restored from the backup"))
            }
        }

        // Read-only media (an evidence copy): every reading command works.
        let media = try TemporaryFileSystem(megabytes: 64, name: "evidence")
        defer { media.unmount() }
        let copy = media.mountPoint.appendingPathComponent("storage")
        #expect(try runProgram("/bin/cp", ["-a", original.path, copy.path]).status == 0)
        try media.setReadOnly(true)
        let readOnly = ["--site", site.path, "--storage", copy.path]
        for command in [["recordings", "verify"], ["audit", "verify"], ["recorder", "status"], ["hold", "list"], ["audit", "show"], ["recordings", "list", "a"]] {
            let result = try TestSites.vigie(command + readOnly)
            #expect(result.status == 0, "\(command) on read-only media: \(result.stdout) \(result.stderr)")
        }
        #expect(try TestSites.vigie(["hold", "list"] + readOnly).stdout.contains("PV-7"))
        // Writing is refused clearly, and nothing is lost.
        let refused = try TestSites.vigie(["hold", "add", "--reference", "X", "--cameras", "a", "--from", "2026-11-30 10:00:00", "--to", "2026-11-30 11:00:00", "--reason", "x"] + readOnly)
        #expect(refused.status == 74, "\(refused.stderr)")
    }

    @Test func aSecondRecorderIsRefusedEvenWhenTheLockFileIsDeleted() throws {
        let folder = TestPaths.temporaryFolder("second-recorder")
        let site = try TestSites.simulated(["a"], in: folder)
        let storage = folder.appendingPathComponent("storage")
        let common = ["--site", site.path, "--storage", storage.path]
        let first = try TestSites.start(["record"] + common + ["--duration", "12"], log: folder.appendingPathComponent("first.log").path)
        #expect(eventually(timeout: 10) { FileManager.default.fileExists(atPath: storage.appendingPathComponent("recorder.pid").path) })
        for name in ["recorder.pid", "recorder.lock"] { unlink(storage.appendingPathComponent(name).path) }
        let second = try TestSites.vigie(["record"] + common + ["--duration", "3"])
        #expect(second.status == 75, "\(second.stderr)")
        #expect(second.stderr.contains("another recorder"), "\(second.stderr)")
        #expect(first.wait() == 0)
        // One recorder wrote: no two segments of a camera overlap.
        let verify = try TestSites.vigie(["recordings", "verify"] + common)
        #expect(verify.status == 0, "\(verify.stdout)")
    }
}
