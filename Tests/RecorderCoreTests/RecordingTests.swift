import Foundation
import Media
import RecorderCore
import TestSupport
import Testing

/// Recording from a real RTSP server, read back with ffprobe; crashes with kill -9.
@Suite(.serialized) struct RecordingTests {
    func site(_ fixture: RTSPFixture, in folder: URL, extra: String = "") throws -> URL {
        var yaml = "site:\n  name: Test\n  timezone: Europe/Paris\n\(extra)cameras:\n"
        for (index, url) in fixture.urls.enumerated() {
            yaml += "  - id: cam\(index)\n    name: Caméra \(index)\n    location: Loopback\n    main: \(url)\n"
        }
        let site = folder.appendingPathComponent("site.yaml")
        try yaml.write(to: site, atomically: true, encoding: .utf8)
        return site
    }

    @Test func aKilledRecorderLeavesAConsistentCatalogAndSegmentsFFprobeReads() throws {
        let vigie = try #require(TestPaths.vigie, "build vigie first")
        let fixture = try RTSPFixture(cameras: 2, basePort: RTSPFixture.randomBasePort())
        defer { fixture.stopAll() }
        let folder = TestPaths.temporaryFolder("record")
        let site = try site(fixture, in: folder)
        let storage = folder.appendingPathComponent("storage")
        let arguments = ["record", "--site", site.path, "--storage", storage.path, "--segment-seconds", "3", "--retention-every", "0"]
        let log = folder.appendingPathComponent("record.log").path

        // Record, then kill -9 in the middle of a segment.
        let first = try ChildProcess(vigie, arguments, stderr: log)
        let catalogPath = storage.appendingPathComponent("catalog.sqlite").path
        func rows(_ sql: String) -> String { (try? runProgram("/usr/bin/sqlite3", [catalogPath, sql]).stdout) ?? "" }
        #expect(eventually(timeout: 30) { (Int(rows("SELECT COUNT(*) FROM segments WHERE state='closed'").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 4 })
        // Both cameras' open segments have footage on disk (flushed every second).
        #expect(eventually(timeout: 10) {
            let open = rows("SELECT path FROM segments WHERE state='open'").split(separator: "\n")
            return open.count == 2 && open.allSatisfy {
                ((try? FileManager.default.attributesOfItem(atPath: storage.appendingPathComponent(String($0)).path))?[.size] as? Int ?? 0) > 20_000
            }
        })
        first.kill(SIGKILL)
        _ = first.wait()
        #expect(rows("SELECT COUNT(*) FROM segments WHERE state='open'").trimmingCharacters(in: .whitespacesAndNewlines) == "2")

        // Restart: the partial segments are closed from what their files hold, recording goes on.
        let second = try ChildProcess(vigie, arguments + ["--duration", "7"], stderr: log + ".2")
        #expect(second.wait() == 0)
        let stderr = (try? String(contentsOfFile: log + ".2", encoding: .utf8)) ?? ""
        #expect(stderr.contains("recovered after an unclean stop: 2 partial segment(s) closed"), "\(stderr)")
        #expect(rows("SELECT COUNT(*) FROM segments WHERE state='recovered'").trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        #expect(rows("SELECT COUNT(*) FROM segments WHERE state='open'").trimmingCharacters(in: .whitespacesAndNewlines) == "0")

        // Every segment is readable by an independent reader, and holds what the catalog says.
        let store = try RecordingStore(root: storage)
        let segments = try store.catalog.segments(camera: nil, from: nil, to: nil)
        #expect(segments.count >= 8)
        for segment in segments {
            let stream = try FFprobe.videoStream(store.url(of: segment).path, countFrames: true)
            #expect(stream["codec_name"] == "h264")
            let frames = Double(stream["nb_read_frames"] ?? "0") ?? 0
            #expect(abs(frames / 25 - segment.duration) <= 0.2, "\(segment.path): \(frames) frames, catalog \(segment.duration) s")
            #expect(segment.keyframes.first?.offset == 0)
        }
        // Per camera: segments follow each other; the time the recorder was down is a gap row.
        for camera in ["cam0", "cam1"] {
            let list = segments.filter { $0.camera == camera }
            let gaps = try store.catalog.gaps(camera: camera, from: .distantPast, to: .distantFuture)
            #expect(gaps.filter { $0.reason == "recorder not running" }.count == 1, "\(gaps)")
            #expect(gaps.allSatisfy { ["recorder not running", "connecting", "recorder stopping"].contains($0.reason) }, "\(gaps)")
            // Each hole is tiled by gap rows (the recorder's absence, then its connecting), joined within 0.5 s.
            for (previous, next) in zip(list, list.dropFirst()) where next.start.timeIntervalSince(previous.end) > 0.5 {
                var reached = previous.end
                for gap in gaps.sorted(by: { $0.start < $1.start }) where gap.start <= reached.addingTimeInterval(0.5) && gap.end > reached {
                    reached = gap.end
                }
                #expect(reached >= next.start.addingTimeInterval(-0.5), "hole \(previous.end) to \(next.start) not covered by \(gaps)")
            }
        }
        let verify = try runProgram(vigie, ["recordings", "verify", "--site", site.path, "--storage", storage.path])
        #expect(verify.status == 0, "\(verify.stdout)")
        // A changed byte in a segment is caught.
        let victim = store.url(of: segments[1]).path
        let handle = try #require(FileHandle(forUpdatingAtPath: victim))
        try handle.seek(toOffset: 1000)
        handle.write(Data([0x42]))
        try handle.close()
        let tampered = try runProgram(vigie, ["recordings", "verify", "--site", site.path, "--storage", storage.path])
        #expect(tampered.status == 1)
        #expect(tampered.stdout.contains("\(segments[1].path): SHA-256 differs"))
        // The audit log has the starts, the recovery and the stops, and its chain is whole.
        let audit = try runProgram(vigie, ["audit", "show", "--site", site.path, "--storage", storage.path])
        for action in ["config.change", "recorder.start", "recorder.recover", "recorder.stop"] { #expect(audit.stdout.contains(action), "\(audit.stdout)") }
        #expect(try runProgram(vigie, ["audit", "verify", "--site", site.path, "--storage", storage.path]).status == 0)

        // Status: per camera, what is kept.
        let status = try runProgram(vigie, ["recorder", "status", "--site", site.path, "--storage", storage.path])
        #expect(status.status == 0)
        #expect(status.stdout.contains("Recorder not running"))
        #expect(status.stdout.split(separator: "\n").filter { $0.hasPrefix("cam0 ") || $0.hasPrefix("cam1 ") }.count == 2, "\(status.stdout)")

        // Holds from the command line: a wrong camera is refused, a hold is listed, released, audited.
        let common = ["--site", site.path, "--storage", storage.path]
        let period = ["--from", "2026-11-01 10:00:00", "--to", "2026-11-01 12:00:00"]
        let refused = try runProgram(vigie, ["hold", "add", "--reference", "PV-1", "--cameras", "cam9", "--reason", "x"] + period + common)
        #expect(refused.status == 64 && refused.stderr.contains("no camera `cam9`"))
        let added = try runProgram(vigie, ["hold", "add", "--reference", "PV-1", "--cameras", "cam0", "--reason", "vol"] + period + common)
        #expect(added.status == 0 && added.stdout.contains("hold 1 (PV-1) added"), "\(added.stderr)")
        #expect(try runProgram(vigie, ["hold", "list"] + common).stdout.contains("PV-1  cam0  2026-11-01 10:00:00 to 2026-11-01 12:00:00"))
        #expect(try runProgram(vigie, ["hold", "release", "1", "--reason", "classement"] + common).status == 0)
        // A camera given by its number is held by its id (the footage rows carry ids).
        let byNumber = try runProgram(vigie, ["hold", "add", "--reference", "PV-2", "--cameras", "2", "--reason", "vol"] + period + common)
        #expect(byNumber.status == 0, "\(byNumber.stderr)")
        #expect(try runProgram(vigie, ["hold", "list"] + common).stdout.contains("PV-2  cam1  "))
        #expect(try runProgram(vigie, ["hold", "release", "2", "--reason", "classement"] + common).status == 0)
        #expect(try runProgram(vigie, ["hold", "list"] + common).stdout.contains("no hold"))
        let holdAudit = try runProgram(vigie, ["audit", "show", "--who", ProcessInfo.processInfo.environment["USER"] ?? "root"] + common).stdout
        #expect(holdAudit.contains("hold.add") && holdAudit.contains("hold.release") && holdAudit.contains("reason \"vol\""))
    }

    @Test func aCameraThatGoesAwayLeavesOneGapAndNoOtherHole() throws {
        let fixture = try RTSPFixture(cameras: 2, basePort: RTSPFixture.randomBasePort())
        defer { fixture.stopAll() }
        let folder = TestPaths.temporaryFolder("camera-loss")
        let inventory = try CameraInventory.load(path: try site(fixture, in: folder).path)
        let store = try RecordingStore(root: folder.appendingPathComponent("storage"))
        let core = RecorderCore(
            inventory: inventory, policy: ReconnectPolicy(initialDelay: 0.2, multiplier: 2, maximumDelay: 1, jitter: 0.1),
            connectTimeout: .seconds(3), readTimeout: .seconds(2))
        let recorder = Recorder(core: core, store: store, segmentSeconds: 2, who: "test")
        _ = try recorder.start(retentionEvery: 0)
        func closed(_ camera: String) -> [SegmentRecord] {
            ((try? store.catalog.segments(camera: camera, from: nil, to: nil)) ?? []).filter { $0.state == .closed }
        }
        #expect(eventually(timeout: 30) { closed("cam0").count >= 2 })

        // cam0 loses power for about 5 s, then comes back; cam1 records on.
        let stoppedAt = Date()
        try fixture.stop(0)
        Thread.sleep(forTimeInterval: 5)
        let restartedAt = Date()
        try fixture.restart(0)
        #expect(eventually(timeout: 30) { closed("cam0").contains { $0.start > restartedAt } && closed("cam0").filter { $0.start > restartedAt }.count >= 2 })
        recorder.stop()
        core.shutdown()

        // cam0: one gap, "signal lost", covering the outage; everywhere else segments follow each other.
        let gaps = try store.catalog.gaps(camera: "cam0", from: .distantPast, to: .distantFuture).filter { $0.reason != "recorder stopping" }
        #expect(gaps.count == 1, "\(gaps)")
        let gap = try #require(gaps.first)
        #expect(gap.reason.hasPrefix("signal lost"), "\(gap.reason)")
        #expect(gap.start <= stoppedAt.addingTimeInterval(1) && gap.end >= restartedAt, "\(gap) for an outage \(stoppedAt) to \(restartedAt)")
        #expect(gap.end.timeIntervalSince(restartedAt) < 15, "back to recording within 15 s of the camera's return")
        for camera in ["cam0", "cam1"] {
            let list = try store.catalog.segments(camera: camera, from: nil, to: nil)
            #expect(list.allSatisfy { $0.state == .closed })
            for (previous, next) in zip(list, list.dropFirst()) where next.start.timeIntervalSince(previous.end) > 0.5 {
                let covered = gaps.contains { $0.start <= previous.end.addingTimeInterval(0.5) && $0.end >= next.start.addingTimeInterval(-0.5) }
                #expect(camera == "cam0" && covered, "\(camera): a hole from \(previous.end) to \(next.start) that no gap row explains")
            }
        }
        #expect(try store.catalog.gaps(camera: "cam1", from: .distantPast, to: .distantFuture).allSatisfy { $0.reason == "recorder stopping" })
        // Segments and gaps tile each camera's time exactly.
        let report = try Recorder.verify(store: store)
        #expect(report.problems.isEmpty, "\(report.problems)")
        // The segments on both sides of the gap are whole for an independent reader.
        for segment in closed("cam0") {
            let stream = try FFprobe.videoStream(store.url(of: segment).path, countFrames: true)
            #expect(abs((Double(stream["nb_read_frames"] ?? "0") ?? 0) / 25 - segment.duration) <= 0.2, "\(segment.path)")
        }
    }

    @Test func retentionDestroysOldFootageButNeverHeldFootage() throws {
        let fixture = try RTSPFixture(cameras: 1, basePort: RTSPFixture.randomBasePort())
        defer { fixture.stopAll() }
        let folder = TestPaths.temporaryFolder("retention")
        let inventory = try CameraInventory.load(path: try site(fixture, in: folder, extra: "  retention_days: 15\n").path)
        let store = try RecordingStore(root: folder.appendingPathComponent("storage"))
        let core = RecorderCore(inventory: inventory)
        let recorder = Recorder(core: core, store: store, segmentSeconds: 2, who: "test")
        _ = try recorder.start(retentionEvery: 0)
        // A second recorder on the same storage is refused.
        #expect {
            _ = try Recorder(core: core, store: store, segmentSeconds: 2, who: "other").start(retentionEvery: 0)
        } throws: { error in
            "\(error)".contains("another recorder (pid \(getpid())) is recording into")
        }
        #expect(eventually(timeout: 30) { ((try? store.catalog.segments(camera: "cam0", from: nil, to: nil)) ?? []).filter { $0.state == .closed }.count >= 4 })
        recorder.stop()
        core.shutdown()
        let segments = try store.catalog.segments(camera: "cam0", from: nil, to: nil)
        // A requisition holds the second segment.
        let held = segments[1]
        _ = try store.catalog.addHold(
            Hold(reference: "PV-42", cameras: ["cam0"], start: held.start.addingTimeInterval(0.1), end: held.end.addingTimeInterval(-0.1),
                 reason: "test", createdBy: "test", createdAt: Date()))
        // 14 days later nothing goes; 16 days later all but the held segment go.
        #expect(try recorder.retentionPass(now: Date().addingTimeInterval(14 * 86_400)).destroyed.isEmpty)
        let report = try recorder.retentionPass(now: Date().addingTimeInterval(16 * 86_400))
        #expect(report.destroyed.count == segments.count - 1)
        let left = try store.catalog.segments(camera: "cam0", from: nil, to: nil)
        #expect(left.map(\.path) == [held.path])
        #expect(FileManager.default.fileExists(atPath: store.url(of: held).path))
        for segment in segments where segment.id != held.id { #expect(!FileManager.default.fileExists(atPath: store.url(of: segment).path)) }
        // The register and the audit log say what went, when and why.
        let register = try store.catalog.destructions(camera: "cam0", since: nil)
        #expect(register.count == segments.count - 1 && register.allSatisfy { $0.reason == "retention 15 days" && $0.destroyedAt != nil })
        let entries = try store.catalog.auditEntries(camera: "cam0", since: nil, who: nil)
        #expect(entries.contains { $0.event.action == .destroyed && $0.event.reason == "retention 15 days" })
        #expect(try store.audit.verify().problems.isEmpty)
        // The purge next to the held segment is no hole: the register explains it.
        let verified = try Recorder.verify(store: store)
        #expect(verified.problems.isEmpty, "\(verified.problems)")
        // Quota pressure (a quota of the newest segment's size): the oldest unheld footage goes
        // first, before its retention, and the audit log says the retention is not met.
        let quotaSite = try site(fixture, in: TestPaths.temporaryFolder("quota"), extra: "  storage_quota: \(segments.last!.bytes)\n")
        let quotaCore = RecorderCore(inventory: try CameraInventory.load(path: quotaSite.path))
        let quotaStore = try RecordingStore(root: TestPaths.temporaryFolder("quota-storage"))
        for segment in segments {
            let copy = quotaStore.root.appendingPathComponent(segment.path)
            try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(repeating: 0, count: Int(segment.bytes)).write(to: copy)
            var row = segment
            row.state = .closed
            _ = try quotaStore.catalog.insertSegment(row)
        }
        let quotaRecorder = Recorder(core: quotaCore, store: quotaStore, who: "test")
        let pressed = try quotaRecorder.retentionPass(now: Date())
        #expect(pressed.destroyed.map(\.path) == Array(segments.dropLast().map(\.path)))
        #expect(pressed.destroyed.allSatisfy { $0.reason == "storage quota" })
        #expect(pressed.retentionNotMet["cam0"] != nil)
        #expect(try quotaStore.catalog.auditEntries(camera: "cam0", since: nil, who: nil).contains { $0.event.action == .retentionNotMet })

        // Released, the held segment follows retention too.
        let hold = try #require(try store.catalog.holds(includeReleased: false).first)
        _ = try store.catalog.releaseHold(id: hold.id, by: "test", at: Date())
        #expect(try recorder.retentionPass(now: Date().addingTimeInterval(16 * 86_400)).destroyed.count == 1)
    }
}
