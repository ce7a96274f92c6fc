import Foundation
import RecorderCore
import TestSupport
import Testing
import Wall

let paris = TimeZone(identifier: "Europe/Paris")!

/// A local time in Paris.
func paris(_ text: String) -> Date {
    let formatter = DateFormatter()
    formatter.timeZone = paris
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    return formatter.date(from: text)!
}

let toursInventory = try! CameraInventory.load(path: TestPaths.repository.appendingPathComponent("Layouts/tours.yaml").path)

func layout(_ yaml: String) throws(ConfigurationError) -> WallLayout {
    try WallLayout.parse(yaml: yaml, file: "wall.yaml", inventory: toursInventory).0
}

@Suite struct WallLayoutTests {
    @Test(arguments: ["tours-wall.yaml", "coutances-wall.yaml"])
    func shippedLayoutsAreValid(name: String) throws {
        let (layout, inventory) = try WallLayout.load(path: TestPaths.repository.appendingPathComponent("Layouts/\(name)").path)
        #expect(layout.warnings.isEmpty)
        #expect(!layout.pages.isEmpty)
        for page in layout.pages {
            #expect(page.cameraIDs.count <= layout.columns * layout.rows)
            for id in page.cameraIDs { #expect(inventory.camera(id) != nil) }
        }
    }

    @Test func expandsPatternsPinsAndSplitsPages() throws {
        let wall = try layout("""
            wall:
              grid: 2x2
              dwell: 12
              pinned: [gare-leclerc]
            pages:
              - name: Vieux
                cameras: [plumereau-*, rue-du-change, plumereau-nord]
            """)
        // 3 free tiles; plumereau-centre, -nord, -sud and rue-du-change: two pages.
        #expect(wall.pages.map(\.name) == ["Vieux 1/2", "Vieux 2/2"])
        #expect(wall.pages[0].cameraIDs == ["gare-leclerc", "plumereau-centre", "plumereau-nord", "plumereau-sud"])
        #expect(wall.pages[1].cameraIDs == ["gare-leclerc", "rue-du-change"])
        #expect(wall.pages.allSatisfy { $0.dwell == 12 && $0.group == "Vieux" })
    }

    @Test(arguments: [
        ("wall:\n  grid: 4x4\npages:\n  - name: A\n    cameras: [nowhere-*]\n", "wall.yaml:5:15: error: `nowhere-*` matches no camera"),
        ("wall:\n  grid: 4x4\npages:\n  - name: A\n    cameras: [nowhere-*]\n", "error: page A is empty"),
        ("wall:\n  grid: 9x2\n", "wall.yaml:2:9: error: grid is COLUMNSxROWS from 1x1 to 8x8"),
        ("wall:\n  dwel: 5\n", "wall.yaml:2:3: error: unknown key `dwel` in wall (did you mean `dwell`?)"),
        ("wall:\n  grid: 2x2\npages:\n  - name: A\n    cameras: [chateau]\nschedule:\n  - name: N\n    from: \"25:00\"\n    to: \"05:00\"\n    pages: [A]\n", "wall.yaml:8:11: error: from is a time of day HH:MM"),
        ("wall:\n  grid: 2x2\npages:\n  - name: A\n    cameras: [chateau]\nschedule:\n  - name: N\n    days: [friday, caturday]\n    pages: [B]\n", "wall.yaml:8:20: error: unknown day `caturday`"),
        ("wall:\n  grid: 2x2\npages:\n  - name: A\n    cameras: [chateau]\nschedule:\n  - name: N\n    days: [friday, caturday]\n    pages: [B]\n", "wall.yaml:9:13: error: window N: no page named `B`"),
    ])
    func reportsWhereAndWhat(yaml: String, expected: String) {
        do {
            _ = try layout(yaml)
            Issue.record("no error")
        } catch {
            #expect(error.description.contains(expected), "got:\n\(error)")
        }
    }

    @Test func overlappingWindowsAreAWarning() throws {
        let wall = try layout("""
            wall:
              grid: 2x2
            pages:
              - name: A
                cameras: [chateau]
            schedule:
              - name: Nights
                days: [fri]
                from: "22:00"
                to: "05:00"
                pages: [A]
              - name: Early Saturday
                days: [sat]
                from: "04:00"
                to: "06:00"
                pages: [A]
            """)
        #expect(wall.warnings.count == 1)
        #expect(wall.warnings[0].description.hasPrefix("wall.yaml:12:5: warning: window `Early Saturday` overlaps `Nights`"))
    }
}

@Suite struct RotationSchedulerTests {
    let tours = try! WallLayout.load(path: TestPaths.repository.appendingPathComponent("Layouts/tours-wall.yaml").path).0

    @Test func zapsAfterTheDwellAndPausesOnRequest() {
        let start = paris("2026-11-18 14:00:00")  // a Wednesday afternoon: no window, every page, 10 s
        var scheduler = RotationScheduler(layout: tours, timeZone: paris, now: start)
        #expect(scheduler.window == nil)
        #expect(scheduler.current.name == "Vieux-Tours")
        #expect(scheduler.pages.count == 5)
        #expect(scheduler.tick(now: start.addingTimeInterval(9.9)) == nil)
        #expect(scheduler.secondsToNextZap(now: start.addingTimeInterval(8)) == 2)
        #expect(scheduler.upcoming(now: start.addingTimeInterval(8), lead: 3)?.name == "Halles")
        #expect(scheduler.upcoming(now: start.addingTimeInterval(5), lead: 3) == nil)
        #expect(scheduler.tick(now: start.addingTimeInterval(10)) == .zapped(page: "Halles"))
        scheduler.togglePause(now: start.addingTimeInterval(14))  // 6 s left
        #expect(scheduler.tick(now: start.addingTimeInterval(100)) == nil)
        #expect(scheduler.secondsToNextZap(now: start.addingTimeInterval(100)) == nil)
        scheduler.togglePause(now: start.addingTimeInterval(100))
        #expect(scheduler.tick(now: start.addingTimeInterval(105.9)) == nil)
        #expect(scheduler.tick(now: start.addingTimeInterval(106)) == .zapped(page: "Nationale et Jean-Jaurès"))
        scheduler.previous(now: start.addingTimeInterval(107))
        #expect(scheduler.current.name == "Halles")
        #expect(scheduler.secondsToNextZap(now: start.addingTimeInterval(107)) == 10)
        #expect(scheduler.position == (2, scheduler.pages.count))
    }

    @Test func isolatingACameraKeepsThePageForTheReturn() {
        let start = paris("2026-11-18 14:00:00")  // every page, 10 s
        var scheduler = RotationScheduler(layout: tours, timeZone: paris, now: start)
        // Isolated 4 s into the page, for a minute: no zap meanwhile, the same page after, with its 6 s.
        scheduler.setHeld(true, now: start.addingTimeInterval(4))
        #expect(scheduler.tick(now: start.addingTimeInterval(30)) == nil)
        scheduler.setHeld(false, now: start.addingTimeInterval(64))
        #expect(scheduler.current.name == "Vieux-Tours")
        #expect(scheduler.secondsToNextZap(now: start.addingTimeInterval(64)) == 6)
        #expect(scheduler.tick(now: start.addingTimeInterval(69.9)) == nil)
        #expect(scheduler.tick(now: start.addingTimeInterval(70)) == .zapped(page: "Halles"))
        // A pause taken while isolated outlives the isolation; resuming gives back the page's time.
        scheduler.setHeld(true, now: start.addingTimeInterval(72))  // 8 s left
        scheduler.togglePause(now: start.addingTimeInterval(75))
        scheduler.setHeld(false, now: start.addingTimeInterval(80))
        #expect(scheduler.paused && scheduler.tick(now: start.addingTimeInterval(200)) == nil)
        scheduler.togglePause(now: start.addingTimeInterval(200))
        #expect(scheduler.secondsToNextZap(now: start.addingTimeInterval(200)) == 8)
        #expect(scheduler.tick(now: start.addingTimeInterval(208)) == .zapped(page: "Nationale et Jean-Jaurès"))
    }

    @Test func weekendNightsCrossMidnight() {
        var scheduler = RotationScheduler(layout: tours, timeZone: paris, now: paris("2026-11-20 21:59:00"))  // Friday
        #expect(scheduler.window == nil)
        #expect(scheduler.tick(now: paris("2026-11-20 22:00:00")) == .windowChanged(window: "Nuits du week-end", page: "Vieux-Tours"))
        #expect(scheduler.current.dwell == 6)
        #expect(Set(scheduler.pages.map(\.group)) == ["Vieux-Tours"])
        // Still on after midnight, into Saturday morning; off at 05:00.
        #expect(tours.activePages(at: paris("2026-11-21 04:59:00"), timeZone: paris).window == "Nuits du week-end")
        #expect(tours.activePages(at: paris("2026-11-21 05:00:00"), timeZone: paris).window == nil)
        // Saturday night runs into Sunday; Sunday night is not a weekend night.
        #expect(tours.activePages(at: paris("2026-11-22 01:00:00"), timeZone: paris).window == "Nuits du week-end")
        #expect(tours.activePages(at: paris("2026-11-23 01:00:00"), timeZone: paris).window == nil)
        // Weekday mornings: rush hour pages.
        #expect(tours.activePages(at: paris("2026-11-23 08:00:00"), timeZone: paris).window == "Heures de pointe")
    }

    @Test func daylightSavingChangesFollowTheWallClock() {
        // 29 March 2026: Paris goes from 02:00 to 03:00. A Saturday-night window ends at 05:00 local, not 04:00.
        let springNight = paris("2026-03-29 04:30:00")
        #expect(tours.activePages(at: springNight, timeZone: paris).window == "Nuits du week-end")
        #expect(tours.activePages(at: paris("2026-03-29 05:00:00"), timeZone: paris).window == nil)
        // The night lasted 6 hours of real time instead of 7.
        let opened = paris("2026-03-28 22:00:00"), closed = paris("2026-03-29 05:00:00")
        #expect(closed.timeIntervalSince(opened) == 6 * 3600)
        // 25 October 2026: 03:00 back to 02:00. Both 02:30s are inside the night; it lasted 8 hours.
        let firstHalfPast2 = paris("2026-10-25 01:30:00").addingTimeInterval(3600)
        let secondHalfPast2 = firstHalfPast2.addingTimeInterval(3600)
        for moment in [firstHalfPast2, secondHalfPast2] {
            #expect(tours.activePages(at: moment, timeZone: paris).window == "Nuits du week-end")
        }
        #expect(paris("2026-10-25 05:00:00").timeIntervalSince(paris("2026-10-24 22:00:00")) == 8 * 3600)
        // The rotation keeps zapping on real seconds across the change (a layout without schedule).
        let plain = try! WallLayout.parse(
            yaml: "wall:\n  grid: 2x2\n  dwell: 6\npages:\n  - name: A\n    cameras: [chateau]\n  - name: B\n    cameras: [gare-*]\n",
            file: "wall.yaml", inventory: toursInventory
        ).0
        var scheduler = RotationScheduler(layout: plain, timeZone: paris, now: firstHalfPast2.addingTimeInterval(3597))
        #expect(scheduler.tick(now: secondHalfPast2.addingTimeInterval(2)) == nil)
        #expect(scheduler.tick(now: secondHalfPast2.addingTimeInterval(3)) == .zapped(page: "B"))
    }

    @Test func aReloadKeepsThePageAndABadFileChangesNothing() throws {
        let start = paris("2026-11-18 14:00:00")
        var scheduler = RotationScheduler(layout: tours, timeZone: paris, now: start)
        scheduler.next(now: start)
        #expect(scheduler.current.name == "Halles")
        let edited = try WallLayout.parse(
            yaml: "wall:\n  grid: 4x4\n  dwell: 20\npages:\n  - name: Gare\n    cameras: [gare-*]\n  - name: Halles\n    cameras: [halles-pailhou]\n",
            file: "wall.yaml", inventory: toursInventory
        ).0
        scheduler.replaceLayout(edited, now: start.addingTimeInterval(1))
        #expect(scheduler.current.name == "Halles")
        #expect(scheduler.current.dwell == 20)
        // An invalid file is refused as a whole: the caller keeps the layout it has.
        #expect(throws: ConfigurationError.self) {
            _ = try WallLayout.parse(yaml: "wall:\n  grid: 4x\n", file: "wall.yaml", inventory: toursInventory)
        }
    }
}

@Suite struct TileGeometryTests {
    @Test func tilesShareTheScreenAboveTheStatusBar() {
        let geometry = TileGeometry(screenColumns: 200, screenRows: 60, gridColumns: 4, gridRows: 4)
        #expect(geometry.tiles.count == 16)
        #expect(geometry.statusBar == CellRect(row: 59, column: 0, rows: 1, columns: 200))
        #expect(geometry.tiles[0].label == CellRect(row: 0, column: 0, rows: 1, columns: 49))
        #expect(geometry.tiles[0].picture == CellRect(row: 1, column: 0, rows: 13, columns: 49))
        #expect(geometry.tiles[15].picture == CellRect(row: 45, column: 150, rows: 14, columns: 50))
        #expect(geometry.tile(atRow: 20, column: 60) == 5)
        #expect(geometry.tile(atRow: 59, column: 10) == nil)
    }
}

@Suite struct TimelineTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aPassageHasItsColumnOnTheTimelineHoweverShort() {
        let cursor = start.addingTimeInterval(300)
        let recorded = [(start: start, end: start.addingTimeInterval(600))]
        let cells = Timeline.cells(
            width: 60, cursor: cursor, span: 600, recorded: recorded, held: [], marks: [(start.addingTimeInterval(100.5), start.addingTimeInterval(101))])
        #expect(cells.filter { $0 == .passage }.count == 1)
        #expect(cells[10] == .passage, "100 s into the 600 s shown: the 11th of 60 columns")
        #expect(cells[30] == .cursor && cells[29] == .recorded)
        let over = Timeline.cells(width: 60, cursor: cursor, span: 600, recorded: recorded, held: [], marks: [(cursor.addingTimeInterval(-5), cursor.addingTimeInterval(5))])
        #expect(over[30] == .cursor && over[29] == .passage, "the cursor stays over a passage")
    }
}
