import Foundation
import RecorderCore
import TestSupport
import Testing

@Suite struct CatalogTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    func catalog() throws -> (SQLiteCatalog, URL) {
        let folder = TestPaths.temporaryFolder("catalog")
        return (try SQLiteCatalog(path: folder.appendingPathComponent("catalog.sqlite").path), folder)
    }

    @Test func segmentsAreFoundByTimeWithTheirKeyframes() throws {
        let (catalog, _) = try catalog()
        let keyframes = (0..<30).map { KeyframeMark(offset: Double($0) * 2, byte: Int64($0) * 500_123) }
        for minute in 0..<5 {
            let start = t0.addingTimeInterval(Double(minute) * 60)
            var segment = SegmentRecord(camera: "a", path: "a/\(minute).ts", start: start, end: start.addingTimeInterval(60), keyframes: keyframes)
            segment.id = try catalog.insertSegment(segment)
            segment.state = .closed
            try catalog.updateSegment(segment)
        }
        let found = try #require(try catalog.segment(camera: "a", containingOrAfter: t0.addingTimeInterval(150)))
        #expect(found.path == "a/2.ts")
        #expect(found.keyframes == keyframes)
        #expect(found.start == t0.addingTimeInterval(120))
        // Past the end: nothing; before the start: the first.
        #expect(try catalog.segment(camera: "a", containingOrAfter: t0.addingTimeInterval(400)) == nil)
        #expect(try catalog.segment(camera: "a", containingOrAfter: t0.addingTimeInterval(-10))?.path == "a/0.ts")
        #expect(try catalog.segment(camera: "a", before: t0.addingTimeInterval(120))?.path == "a/1.ts")
        #expect(try catalog.segments(camera: "a", from: t0.addingTimeInterval(59), to: t0.addingTimeInterval(61)).map(\.path) == ["a/0.ts", "a/1.ts"])
        #expect(try catalog.usage().first?.segments == 5)
    }

    @Test func eachStreamIsItsOwnTimeAndPlaybackReadsTheMainOne() throws {
        let (catalog, _) = try catalog()
        for minute in 0..<3 {
            let start = t0.addingTimeInterval(Double(minute) * 60)
            for stream in StreamChoice.allCases {
                let path = SegmentPath.make(camera: "a", start: start, stream: stream)
                _ = try catalog.insertSegment(
                    SegmentRecord(camera: "a", path: path, start: start, end: start.addingTimeInterval(60), state: .closed, stream: stream))
            }
        }
        try catalog.addGap(GapRecord(camera: "a", start: t0.addingTimeInterval(180), end: t0.addingTimeInterval(200), reason: "sub lost", stream: .sub))
        // What playback, exports and the timeline read: the main stream only.
        #expect(try catalog.segments(camera: "a", from: nil, to: nil).map(\.stream) == [.main, .main, .main])
        #expect(try catalog.segment(camera: "a", containingOrAfter: t0.addingTimeInterval(70))?.path == "a/2026-09-21/141420.ts")
        #expect(try catalog.segment(camera: "a", stream: .sub, containingOrAfter: t0.addingTimeInterval(70))?.path == "a/2026-09-21/141420.sub.ts")
        #expect(try catalog.segment(camera: "a", stream: .sub, before: .distantFuture)?.stream == .sub)
        #expect(try catalog.segments(camera: "a", stream: nil, from: nil, to: nil).count == 6)
        // Each stream's coverage and gaps are its own.
        #expect(try catalog.gaps(camera: "a", from: .distantPast, to: .distantFuture).isEmpty)
        #expect(try catalog.gaps(camera: "a", stream: .sub, from: .distantPast, to: .distantFuture).map(\.reason) == ["sub lost"])
        #expect(try catalog.lastCovered(camera: "a") == t0.addingTimeInterval(180))
        #expect(try catalog.lastCovered(camera: "a", stream: .sub) == t0.addingTimeInterval(200))
        // Usage counts both streams' files; its oldest and newest are the main stream's.
        let usage = try #require(try catalog.usage().first)
        #expect(usage.segments == 6 && usage.oldest == t0 && usage.newest == t0.addingTimeInterval(180))
        #expect(try catalog.segmentPaths(camera: "a").count == 6)
        #expect(try catalog.recordedSummary(camera: "a", from: .distantPast, to: .distantFuture)?.segments == 3)
    }

    @Test func aCatalogOfSchemaSevenGetsStreamsAndKeepsItsSegments() throws {
        let folder = TestPaths.temporaryFolder("schema7")
        let path = folder.appendingPathComponent("catalog.sqlite").path
        // The segments and gaps tables as schema 7 made them, one row each.
        let old = """
            CREATE TABLE segments (id INTEGER PRIMARY KEY, camera TEXT NOT NULL, path TEXT NOT NULL UNIQUE, start_us INTEGER NOT NULL,
                end_us INTEGER NOT NULL, bytes INTEGER NOT NULL DEFAULT 0, sha256 TEXT, keyframes BLOB, state TEXT NOT NULL, skew_us INTEGER NOT NULL DEFAULT 0);
            CREATE INDEX segments_by_camera_time ON segments (camera, start_us);
            CREATE TABLE gaps (id INTEGER PRIMARY KEY, camera TEXT NOT NULL, start_us INTEGER NOT NULL, end_us INTEGER NOT NULL, reason TEXT NOT NULL);
            CREATE INDEX gaps_by_camera_time ON gaps (camera, start_us);
            INSERT INTO segments (camera, path, start_us, end_us, state) VALUES ('a', 'a/2026-09-21/220000.ts', 1790000000000000, 1790000060000000, 'closed');
            INSERT INTO gaps (camera, start_us, end_us, reason) VALUES ('a', 1790000060000000, 1790000070000000, 'signal lost');
            PRAGMA user_version = 7;
            """
        let made = try runProgram("/usr/bin/sqlite3", [path, old])
        #expect(made.status == 0, "\(made.stderr)")
        // Read-only first: an earlier schema is read as the main stream's, nothing written.
        let reader = try SQLiteCatalog(path: path, access: .readOnly)
        #expect(try reader.segments(camera: "a", from: nil, to: nil).map(\.stream) == [.main])
        #expect(try reader.lastCovered(camera: "a") == t0.addingTimeInterval(70))
        let catalog = try SQLiteCatalog(path: path)
        #expect(try catalog.segment(camera: "a", containingOrAfter: t0)?.path == "a/2026-09-21/220000.ts")
        #expect(try catalog.gaps(camera: "a", from: .distantPast, to: .distantFuture).map(\.reason) == ["signal lost"])
        #expect(try catalog.lastCovered(camera: "a", stream: .sub) == nil)
        let indexes = sqlite(path, "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ('segments', 'gaps') ORDER BY name")
        #expect(indexes.contains("segments_by_camera_stream_time") && indexes.contains("gaps_by_camera_stream_time"))
        #expect(!indexes.contains("segments_by_camera_time") && !indexes.contains("gaps_by_camera_time"))
        #expect(sqlite(path, "PRAGMA user_version") == "8")
    }

    @Test func holdsAreKeptAndReleased() throws {
        let (catalog, _) = try catalog()
        let hold = try catalog.addHold(
            Hold(reference: "PV 2026/1234", cameras: ["a", "b"], start: t0, end: t0.addingTimeInterval(3600), reason: "incendie des Halles",
                 createdBy: "technicien", createdAt: t0))
        #expect(try catalog.holds(includeReleased: false).map(\.reference) == ["PV 2026/1234"])
        #expect(hold.covers(camera: "a", from: t0.addingTimeInterval(-30), to: t0.addingTimeInterval(30)))
        #expect(!hold.covers(camera: "c", from: t0, to: t0.addingTimeInterval(30)))
        let released = try #require(try catalog.releaseHold(id: hold.id, by: "chef", at: t0.addingTimeInterval(100)))
        #expect(released.releasedBy == "chef" && !released.isActive)
        #expect(try catalog.releaseHold(id: hold.id, by: "chef", at: t0) == nil)  // once
        #expect(try catalog.holds(includeReleased: false).isEmpty)
        #expect(try catalog.holds(includeReleased: true).count == 1)
    }

    @Test func theAuditChainCatchesAnEditAnInsertionAndARemoval() throws {
        let (catalog, folder) = try catalog()
        let log = AuditLog(catalog: catalog, headPath: folder.appendingPathComponent("audit.head").path, keys: AuditKeyFolder(storage: folder))
        for index in 0..<6 {
            try log.append(
                OperatorEvent(who: "agent\(index % 2)", when: t0.addingTimeInterval(Double(index)), action: .playback, cameraID: "a",
                              from: t0, to: t0.addingTimeInterval(60), reason: "PV \(index)"))
        }
        #expect(try log.verify().problems.isEmpty)
        let path = catalog.path
        func sql(_ statement: String) throws {
            let result = try runProgram("/usr/bin/sqlite3", [path, statement])
            #expect(result.status == 0, "\(result.stderr)")
        }
        // Edit: someone changes who played footage back (entry 1 is the key's making).
        try sql("UPDATE audit SET who = 'nobody' WHERE sequence = 4")
        #expect(try log.verify().problems.map(\.sequence) == [4])
        try sql("UPDATE audit SET who = 'agent0' WHERE sequence = 4")
        #expect(try log.verify().problems.isEmpty)
        // Removal in the middle: the next entry no longer links.
        try sql("DELETE FROM audit WHERE sequence = 5")
        let removal = try log.verify().problems
        #expect(removal.contains { $0.sequence == 6 && $0.message.contains("missing") })
        // Removal at the end: the head kept outside the catalog says how many there were.
        let (fresh, freshFolder) = try self.catalog()
        let freshLog = AuditLog(catalog: fresh, headPath: freshFolder.appendingPathComponent("audit.head").path, keys: AuditKeyFolder(storage: freshFolder))
        for index in 0..<3 { try freshLog.append(OperatorEvent(who: "x", when: t0.addingTimeInterval(Double(index)), action: .consoleStarted)) }
        _ = try runProgram("/usr/bin/sqlite3", [fresh.path, "DELETE FROM audit WHERE sequence = 4"])
        #expect(try freshLog.verify().problems.contains { $0.message.contains("removed from the end") })
    }

    @Test func keyframeIndexesPackSmall() throws {
        // Through the catalog's public path: a 60 s segment at GOP 2 s fits in a few hundred bytes.
        let marks = (0..<30).map { KeyframeMark(offset: Double($0) * 2.0, byte: Int64($0) * 480_000 + Int64($0 % 3) * 188) }
        let folder = TestPaths.temporaryFolder("pack")
        let catalog = try? SQLiteCatalog(path: folder.appendingPathComponent("c.sqlite").path)
        let id = try? catalog?.insertSegment(SegmentRecord(camera: "a", path: "p", start: t0, end: t0, keyframes: marks))
        #expect(id != nil)
        #expect(try catalog?.segments(camera: "a", from: nil, to: nil).first?.keyframes == marks)
    }
}

@Suite struct RetentionTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func segments(_ camera: String, days: ClosedRange<Int>, bytes: Int64 = 100, id: inout Int64) -> [SegmentRecord] {
        days.reversed().map { daysAgo in
            id += 1
            let start = now.addingTimeInterval(-Double(daysAgo) * 86_400)
            return SegmentRecord(id: id, camera: camera, path: "\(camera)/\(daysAgo)", start: start, end: start.addingTimeInterval(60), bytes: bytes, state: .closed)
        }
    }

    @Test func oldFootageGoesAndHeldFootageStays() {
        var id: Int64 = 0
        let all = (segments("tours-a", days: 1...20, id: &id) + segments("tours-b", days: 1...20, id: &id)).sorted { $0.start < $1.start }
        let hold = Hold(reference: "R1", cameras: ["tours-a"], start: now.addingTimeInterval(-18.5 * 86_400), end: now.addingTimeInterval(-17.5 * 86_400),
                        reason: "réquisition", createdBy: "t", createdAt: now)
        let plan = RetentionPlanner.plan(oldestFirst: all, holds: [hold], now: now, retentionDays: { $0 == "tours-b" ? 10 : 15 }, used: 4000, quota: nil)
        let destroyed = Set(plan.destroy.map(\.segment.path))
        // tours-a keeps 15 days except its held day 18; tours-b keeps 10 days.
        #expect(destroyed == Set((16...20).filter { $0 != 18 }.map { "tours-a/\($0)" } + (11...20).map { "tours-b/\($0)" }))
        #expect(plan.destroy.allSatisfy { $0.reason.hasPrefix("retention") })
        #expect(plan.retentionNotMet.isEmpty)
        // Oldest first.
        #expect(plan.destroy.map(\.segment.start) == plan.destroy.map(\.segment.start).sorted())
    }

    @Test func quotaPressureDeletesOldestFirstNeverHeldAndSaysRetentionIsNotMet() {
        var id: Int64 = 0
        let all = segments("a", days: 1...10, id: &id).sorted { $0.start < $1.start }
        let hold = Hold(reference: "R2", cameras: [], start: now.addingTimeInterval(-10.5 * 86_400), end: now.addingTimeInterval(-9.5 * 86_400),
                        reason: "r", createdBy: "t", createdAt: now)
        // 1000 bytes used, quota 650: 4 segments must go (held day 10 cannot).
        let plan = RetentionPlanner.plan(oldestFirst: all, holds: [hold], now: now, retentionDays: { _ in 30 }, used: 1000, quota: 650)
        #expect(plan.destroy.map(\.segment.path) == ["a/9", "a/8", "a/7", "a/6"])
        #expect(plan.destroy.allSatisfy { $0.reason == "storage quota" })
        #expect(plan.retentionNotMet["a"] != nil)
        // Everything held: nothing goes, and the plan says how far over the quota it stays.
        let everything = Hold(reference: "R3", cameras: [], start: .distantPast, end: .distantFuture, reason: "r", createdBy: "t", createdAt: now)
        let stuck = RetentionPlanner.plan(oldestFirst: all, holds: [everything], now: now, retentionDays: { _ in 1 }, used: 1000, quota: 650)
        #expect(stuck.destroy.isEmpty && stuck.stillOverQuota == 350)
    }

    @Test func quotasAreRead() {
        #expect(StorageQuota.parse("800G") == .bytes(800_000_000_000))
        #expect(StorageQuota.parse("85%") == .percentOfDisk(85))
        #expect(StorageQuota.parse("1.5T")?.limit(diskBytes: 0) == 1_500_000_000_000)
        #expect(StorageQuota.parse("120%") == nil && StorageQuota.parse("lots") == nil)
    }

    @Test func aRetentionOverTheAuthorisationIsRefusedWithItsPlace() {
        let yaml = """
            site:
              name: Tours
              timezone: Europe/Paris
              authorised_retention_days: 15
              retention_days: 15
            cameras:
              - id: a
                name: A
                location: L
                main: rtsp://10.0.0.1/main
                retention_days: 21
            """
        #expect {
            _ = try CameraInventory.parse(yaml: yaml, file: "site.yaml")
        } throws: { error in
            "\(error)".contains("site.yaml:11:21: error: retention_days 21 is longer than the authorisation allows: at most 15 days")
        }
        let lawless = yaml.replacingOccurrences(of: "authorised_retention_days: 15", with: "authorised_retention_days: 45")
        #expect(throws: ConfigurationError.self) { _ = try CameraInventory.parse(yaml: lawless, file: "site.yaml") }
        let fine = yaml.replacingOccurrences(of: "retention_days: 21", with: "retention_days: 7")
        let inventory = try? CameraInventory.parse(yaml: fine, file: "site.yaml")
        #expect(inventory?.retentionDays(camera: "a") == 7)
    }
}

@Suite struct LocalTimeTests {
    let paris = TimeZone(identifier: "Europe/Paris")!

    @Test func localTimesAroundDaylightSavingChanges() throws {
        // Summer: UTC+2.
        #expect(try LocalTime.parse("2026-07-14 22:00:00", timeZone: paris) == Date(timeIntervalSince1970: 1_784_059_200))
        // 29 March 2026, 02:30 does not exist in Paris (clocks go from 02:00 to 03:00).
        #expect(throws: LocalTime.ParseError.self) { _ = try LocalTime.parse("2026-03-29 02:30:00", timeZone: paris) }
        // 25 October 2026, 02:30 happens twice: the first (summer time) unless the offset says otherwise.
        let first = try LocalTime.parse("2026-10-25 02:30:00", timeZone: paris)
        let second = try LocalTime.parse("2026-10-25 02:30:00 +01:00", timeZone: paris)
        #expect(second.timeIntervalSince(first) == 3600)
        #expect(LocalTime.format(first, timeZone: paris, offset: true) == "2026-10-25 02:30:00 +02:00")
        #expect(LocalTime.format(second, timeZone: paris, offset: true) == "2026-10-25 02:30:00 +01:00")
        #expect(try LocalTime.parse("2026-10-25 01:30:00Z", timeZone: paris) == second)
        #expect(throws: LocalTime.ParseError.self) { _ = try LocalTime.parse("2026-02-30 10:00", timeZone: paris) }
        #expect(throws: LocalTime.ParseError.self) { _ = try LocalTime.parse("yesterday", timeZone: paris) }
        #expect(throws: LocalTime.ParseError.self) { _ = try LocalTime.parse("2026-07-14 22:00:xx", timeZone: paris) }
        #expect(try LocalTime.parse("2026-07-14 22:00:05.48", timeZone: paris) == Date(timeIntervalSince1970: 1_784_059_205.48))
    }
}
