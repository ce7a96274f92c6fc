import Foundation
import Media
import RecorderCore
import TestSupport
import Testing

/// What the catalog says is true: segments and gaps tile time exactly, also when the
/// recorder stops during a signal loss; a file planted among the footage is not taken for
/// footage; a file camera is recorded at its own pace.
@Suite(.serialized) struct CatalogTruthTests {
    @Test func aFrozenCameraIsAGapUpToTheStopAndSegmentsAndGapsTileTime() throws {
        let fixture = try RTSPFixture(cameras: 2, basePort: RTSPFixture.randomBasePort())
        defer { fixture.stopAll() }
        let folder = TestPaths.temporaryFolder("frozen")
        // cam0 over UDP (frozen, it sends nothing and says nothing), cam1 over TCP.
        var yaml = "site:\n  name: Test\n  timezone: Europe/Paris\ncameras:\n"
        for (index, url) in fixture.urls.enumerated() {
            yaml += "  - id: cam\(index)\n    name: Caméra \(index)\n    location: Loopback\n    main: \(url)\n    transport: \(index == 0 ? "udp" : "tcp")\n"
        }
        let site = folder.appendingPathComponent("site.yaml")
        try yaml.write(to: site, atomically: true, encoding: .utf8)
        let storage = folder.appendingPathComponent("storage")
        let common = ["--site", site.path, "--storage", storage.path]
        let catalog = storage.appendingPathComponent("catalog.sqlite").path

        let recording = try TestSites.start(["record"] + common + ["--segment-seconds", "3", "--duration", "24"], log: folder.appendingPathComponent("record.log").path)
        #expect(eventually(timeout: 20) { (Int(sqlite(catalog, "SELECT COUNT(*) FROM segments WHERE camera = 'cam0' AND state = 'closed'")) ?? 0) >= 2 })
        let frozenAt = Date()
        let server = try fixture.pid(0)
        kill(server, SIGSTOP)
        defer { kill(server, SIGCONT) }
        #expect(recording.wait() == 0)
        let stoppedAt = Date()

        // cam0: a gap from its last segment's end to the stop, saying the signal was lost.
        let lastEnd = (Double(sqlite(catalog, "SELECT MAX(end_us) FROM segments WHERE camera = 'cam0'")) ?? 0) / 1e6
        #expect(lastEnd <= frozenAt.timeIntervalSince1970 + 1)
        let gap = sqlite(catalog, "SELECT start_us, end_us, reason FROM gaps WHERE camera = 'cam0' ORDER BY start_us DESC LIMIT 1").split(separator: "|")
        #expect(gap.count == 3 && gap[2].hasPrefix("signal lost"), "\(gap)")
        if gap.count == 3 {
            #expect(abs((Double(gap[0]) ?? 0) / 1e6 - lastEnd) < 0.001, "the gap starts where the last segment ends")
            #expect(abs((Double(gap[1]) ?? 0) / 1e6 - stoppedAt.timeIntervalSince1970) < 3, "the gap runs to the stop")
        }
        let verify = try TestSites.vigie(["recordings", "verify"] + common)
        #expect(verify.status == 0, "\(verify.stdout)")

        // A stop without that gap row is caught by verify (the catalog would lie).
        let copy = folder.appendingPathComponent("lying")
        #expect(try runProgram("/bin/cp", ["-a", storage.path, copy.path]).status == 0)
        _ = sqlite(copy.appendingPathComponent("catalog.sqlite").path, "DELETE FROM gaps WHERE camera = 'cam0' AND reason LIKE 'signal lost%'")
        let lying = try TestSites.vigie(["recordings", "verify", "--site", site.path, "--storage", copy.path])
        #expect(lying.status == 1 && lying.stdout.contains("cam0") && lying.stdout.contains("missing"), "\(lying.stdout)")

        // The camera comes back; a new run: its time is tiled again, exactly.
        kill(server, SIGCONT)
        let second = try TestSites.vigie(["record"] + common + ["--segment-seconds", "3", "--duration", "14"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect((Int(sqlite(catalog, "SELECT COUNT(*) FROM segments WHERE camera = 'cam0' AND start_us > \(Int64(stoppedAt.timeIntervalSince1970 * 1e6))")) ?? 0) >= 1)
        let again = try TestSites.vigie(["recordings", "verify"] + common)
        #expect(again.status == 0, "\(again.stdout)")
        // Every gap starts where the record before it ends, and the next starts where it ends.
        let store = try RecordingStore(root: storage, access: .readOnly)
        for camera in ["cam0", "cam1"] {
            var items = try store.catalog.segments(camera: camera, from: nil, to: nil).map { ($0.start, $0.end) }
            items += try store.catalog.gaps(camera: camera, from: .distantPast, to: .distantFuture).map { ($0.start, $0.end) }
            items.sort { $0.0 < $1.0 }
            for (previous, next) in zip(items, items.dropFirst()) {
                #expect(abs(next.0.timeIntervalSince(previous.1)) < 0.001, "\(camera): \(previous) then \(next)")
            }
        }

        // The scanner that rebuilds a lost catalog reads these segments as FFmpeg does.
        for segment in try store.catalog.segments(camera: nil, from: nil, to: nil) where segment.state == .closed {
            let url = store.url(of: segment)
            let ffmpeg = try SegmentScan.scan(url)
            let quick = try TransportStreamScan.quick(path: url.path)
            let full = try TransportStreamScan.full(path: url.path)
            #expect(abs(quick.duration - ffmpeg.duration) < 0.001, "\(segment.path): \(quick.duration) s, FFmpeg \(ffmpeg.duration) s")
            #expect(full.keyframes.map(\.byte) == ffmpeg.keyframes.map(\.byte), "\(segment.path)")
            #expect(full.sha256 == segment.sha256)
            #expect(full.pictures == ffmpeg.packets)
        }
    }

    @Test func aFilePlantedAmongTheFootageIsKeptApartNotIndexed() throws {
        let folder = TestPaths.temporaryFolder("planted")
        let site = try TestSites.simulated(["a"], in: folder)
        let storage = folder.appendingPathComponent("storage")
        let common = ["--site", site.path, "--storage", storage.path]
        #expect(try TestSites.vigie(["record"] + common + ["--segment-seconds", "3", "--duration", "8"]).status == 0)
        let catalog = storage.appendingPathComponent("catalog.sqlite").path
        let real = sqlite(catalog, "SELECT path FROM segments WHERE state = 'closed' LIMIT 1")
        // A real segment, copied by hand into the camera's folder under a name of the future.
        let day = String(real.split(separator: "/")[1])
        let planted = "a/\(day)/235959.ts"
        #expect(try runProgram("/bin/cp", [storage.appendingPathComponent(real).path, storage.appendingPathComponent(planted).path]).status == 0)
        let sha = try #require(RecordingStore.digest(of: storage.appendingPathComponent(planted))).sha256
        let before = try TestSites.vigie(["recordings", "verify"] + common)
        #expect(before.status == 1 && before.stdout.contains("\(planted): a segment file the catalog does not know"), "\(before.stdout)")

        let run = try TestSites.vigie(["record"] + common + ["--segment-seconds", "3", "--duration", "5"])
        #expect(run.status == 0)
        #expect(run.stderr.contains("\(planted) was not written by the recorder: kept apart as quarantine/\(planted), not indexed"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: storage.appendingPathComponent(planted).path))
        #expect(RecordingStore.digest(of: storage.appendingPathComponent("quarantine/\(planted)"))?.sha256 == sha)
        #expect(sqlite(catalog, "SELECT COUNT(*) FROM segments WHERE path = '\(planted)'") == "0")
        let audit = try TestSites.vigie(["audit", "show"] + common).stdout
        #expect(audit.contains("storage.foreign") && audit.contains(sha), "\(audit)")
        let after = try TestSites.vigie(["recordings", "verify"] + common)
        #expect(after.status == 0 && after.stdout.contains("kept apart"), "\(after.stdout)")
        // A camera neither the site nor the recordings know is an error, not "0 checked".
        let unknown = try TestSites.vigie(["recordings", "verify", "--camera", "nosuch"] + common)
        #expect(unknown.status == 64 && unknown.stderr.contains("no camera `nosuch`"), "\(unknown.stderr)")
    }

    @Test func aFileCameraIsRecordedAtItsOwnPace() throws {
        let folder = TestPaths.temporaryFolder("file-camera")
        let clip = try Clips.make("file-camera-20s", seconds: 20, gop: 25)
        let site = try TestSites.addresses([clip.path], in: folder)
        let storage = folder.appendingPathComponent("storage")
        let common = ["--site", site.path, "--storage", storage.path]
        let started = Date()
        let run = try TestSites.vigie(["record"] + common + ["--segment-seconds", "2", "--duration", "8"])
        let elapsed = Date().timeIntervalSince(started)
        #expect(run.status == 0, "\(run.stderr)")
        let recorded = (Double(sqlite(storage.appendingPathComponent("catalog.sqlite").path, "SELECT SUM(end_us - start_us) FROM segments")) ?? 0) / 1e6
        #expect(recorded > 4 && recorded <= elapsed, "\(recorded) s of video recorded in \(elapsed) s")
        let verify = try TestSites.vigie(["recordings", "verify"] + common)
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test func segmentPathsReadBackAndRefuseWhatIsNotOne() {
        let start = Date(timeIntervalSince1970: 1_796_169_599)  // 2026-12-01 23:59:59 UTC
        #expect(SegmentPath.make(camera: "rue-daniel", start: start) == "rue-daniel/2026-12-01/235959.ts")
        #expect(SegmentPath.make(camera: "rue-daniel", start: start, counter: 2) == "rue-daniel/2026-12-01/235959-2.ts")
        #expect(SegmentPath.make(camera: "rue-daniel", start: start, stream: .sub) == "rue-daniel/2026-12-01/235959.sub.ts")
        #expect(SegmentPath.make(camera: "rue-daniel", start: start, counter: 3, stream: .sub) == "rue-daniel/2026-12-01/235959-3.sub.ts")
        for path in [
            "rue-daniel/2026-12-01/235959.ts", "rue-daniel/2026-12-01/235959-2.ts", "a/2024-02-29/000000.ts", "a/2024-02-29/000000.sub.ts",
            "a/2024-02-29/000000-2.sub.ts",
        ] {
            let parsed = SegmentPath.parse(path)
            #expect(parsed?.stream == (path.hasSuffix(".sub.ts") ? .sub : .main))
            #expect(parsed.map { SegmentPath.make(camera: $0.camera, start: $0.start, counter: path.contains("-2.") ? 2 : 1, stream: $0.stream) } == path)
        }
        for path in [
            "a/2026-13-01/000000.ts", "a/2026-12-01/246000.ts", "a/2026-12-01/0000.ts", "a/b/c/000000.ts", "a/2026-12-01/000000.mp4",
            "a/2026-12-01/000000-x.ts", "a/2026-12-01/000000.main.ts", "a/2026-12-01/000000.sub.sub.ts", "a/2026-12-01/.sub.ts",
        ] {
            #expect(SegmentPath.parse(path) == nil, "\(path)")
        }
        #expect(SegmentPath.stamp(start) == "20261201T235959Z")
    }

    @Test func theStorageBudgetFitsSmallAndLargeDisks() {
        // 60 MB, 13 cameras at 2.3 Mbit/s: a floor the disk can afford, segments cut small.
        let small = StorageBudget.plan(diskBytes: 60_000_000, writeBytesPerSecond: 3_250_000, cameras: 13)
        #expect(small.floorBytes == 13_000_000 && small.floorBytes <= 60_000_000 / 4)
        #expect(small.targetBytes > small.floorBytes && small.resumeBytes > small.floorBytes && small.resumeBytes < small.targetBytes)
        #expect(small.segmentByteLimit < 2_000_000)
        #expect(small.catalogReserveBytes + small.catalogLogBytes < 2_000_000)
        // 40 TB, 110 cameras at 4 Mbit/s: 2 GB kept free (1 % capped), segments never cut by size.
        let large = StorageBudget.plan(diskBytes: 40_000_000_000_000, writeBytesPerSecond: 55_000_000, cameras: 110)
        #expect(large.floorBytes == 2_000_000_000)
        #expect(large.segmentByteLimit > 10_000_000_000)
        #expect(large.catalogReserveBytes == 16 << 20)
        // A burst of writing raises the floor.
        #expect(StorageBudget.plan(diskBytes: 40_000_000_000_000, writeBytesPerSecond: 1_000_000_000, cameras: 110).floorBytes == 4_000_000_000)
    }
}
