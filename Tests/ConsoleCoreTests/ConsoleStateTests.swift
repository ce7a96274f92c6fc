import ConsoleCore
import Foundation
import RecorderCore
import Testing

/// The console's decisions without a terminal: what each key does in each mode and overlay.
struct ConsoleStateTests {
    static let inventory: CameraInventory = {
        let yaml = """
            site:
              name: Test
              timezone: Europe/Paris
            cameras:
              - { id: quai, name: Quai de Loire, location: Pont Wilson, main: "rtsp://127.0.0.1/1", neighbours: [gare, halles] }
              - { id: gare, name: Gare, location: Parvis, main: "rtsp://127.0.0.1/2", neighbours: [quai] }
              - { id: halles, name: Halles, location: Place Gaston-Pailhou, main: "rtsp://127.0.0.1/3", neighbours: [quai] }
              - { id: cathedrale, name: Cathédrale, location: Saint-Gatien, main: "rtsp://127.0.0.1/4" }
            """
        return try! CameraInventory.parse(yaml: yaml, file: "test.yaml")
    }()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func context(tiles: [String] = ["quai", "gare", "halles", "cathedrale"], mayView: @escaping (String) -> Bool = { _ in true }, paused: Bool? = nil)
        -> ConsoleState.Context
    {
        ConsoleState.Context(now: now, tiles: tiles, gridColumns: 2, inventory: Self.inventory, mayView: mayView, playbackPaused: paused)
    }

    @Test func enterIsolatesTheSelectedTileAndEscapeComesBack() {
        var state = ConsoleState()
        #expect(state.handle(.right, context()).isEmpty && state.selected == 1)
        #expect(state.handle(.down, context()).isEmpty && state.selected == 3)
        #expect(state.handle(.down, context()).isEmpty && state.selected == 3, "the selection stays inside the grid")
        #expect(state.handle(.enter, context()) == [.isolate(camera: "cathedrale", detail: nil)])
        #expect(state.mode == .isolated(cameraID: "cathedrale"))
        #expect(state.handle(.right, context()) == [.isolate(camera: "quai", detail: nil)], "→ goes round to the first camera")
        #expect(state.handle(.escape, context()) == [.returnToWall(from: "quai")] && state.mode == .wall)
        #expect(state.handle(.clickTile(index: 2, double: true), context()) == [.isolate(camera: "halles", detail: nil)])
    }

    @Test func neighboursAreAChoiceByTheirKeysAmongTheCamerasTheAccountMayWatch() {
        var state = ConsoleState()
        let onlySome = context(mayView: { $0 != "gare" })
        #expect(state.handle(.character(":"), onlySome).isEmpty)
        for character in "quai" { _ = state.handle(.character(character), onlySome) }
        #expect(state.handle(.enter, onlySome) == [.isolate(camera: "quai", detail: "typed quai")])
        #expect(state.handle(.character("N"), onlySome).isEmpty)
        #expect(state.overlay == .neighbours(of: "quai", ids: ["halles"]), "gare may not be watched: not offered")
        #expect(state.handle(.character("1"), onlySome) == [.redrawAll, .isolate(camera: "halles", detail: "neighbour 1 of quai")])
        _ = state.handle(.character("N"), onlySome)
        #expect(state.handle(.character("9"), onlySome) == [.redrawAll] && state.mode == .isolated(cameraID: "halles"), "no ninth neighbour: nothing")
        var lonely = ConsoleState()
        lonely.mode = .isolated(cameraID: "cathedrale")
        #expect(lonely.handle(.character("N"), context()) == [.message("Cathédrale has no neighbouring camera in the site file")])
    }

    @Test func rewindIsForAnIsolatedCameraAndThePlayerKeysForPlayback() {
        var state = ConsoleState()
        #expect(state.handle(.character("["), context()).isEmpty, "the wall has no rewind")
        #expect(state.handle(.character(" "), context()) == [.toggleRotation])
        state.mode = .isolated(cameraID: "quai")
        #expect(state.handle(.character("["), context()) == [.startPlayback(at: now.addingTimeInterval(-10))])
        #expect(state.handle(.character("]"), context()).isEmpty, "no forward from live")
        let playing = context(paused: false)
        #expect(state.handle(.character("{"), playing) == [.seekPlaybackBy(seconds: -60)])
        #expect(state.handle(.character(" "), playing) == [.togglePlaybackPause])
        #expect(state.handle(.character("+"), playing) == [.changePlaybackSpeed(by: 1)])
        #expect(state.handle(.character("."), playing).isEmpty, "one frame only while paused")
        #expect(state.handle(.character("."), context(paused: true)) == [.stepPlayback])
        #expect(state.handle(.character("L"), playing) == [.backToLive])
        #expect(state.handle(.character("L"), context()).isEmpty)
    }

    @Test func aTypedTimeStartsOrMovesThePlaybackAndAWrongOneIsSaid() {
        var state = ConsoleState()
        state.mode = .isolated(cameraID: "quai")
        _ = state.handle(.character("t"), context())
        for character in "2026-11-30 14:05:00" { _ = state.handle(.character(character), context()) }
        let expected = try! LocalTime.parse("2026-11-30 14:05:00", timeZone: TimeZone(identifier: "Europe/Paris")!)
        #expect(state.handle(.enter, context()) == [.startPlayback(at: expected)])
        _ = state.handle(.character("t"), context(paused: false))
        for character in "2026-11-30 14:06:0x" { _ = state.handle(.character(character), context(paused: false)) }
        _ = state.handle(.backspace, context(paused: false))
        _ = state.handle(.character("0"), context(paused: false))
        #expect(state.handle(.enter, context(paused: false)) == [.seekPlaybackTo(expected.addingTimeInterval(60))])
        _ = state.handle(.character("t"), context())
        for character in "hier" { _ = state.handle(.character(character), context()) }
        let said = state.handle(.enter, context())
        #expect(said.count == 1 && { if case .message = said[0] { true } else { false } }(), "\(said)")
    }

    @Test func aFilterFoldsCaseAndAccentsAndLeavesAnIsolatedCamera() {
        var state = ConsoleState()
        state.mode = .isolated(cameraID: "gare")
        _ = state.handle(.character("/"), context())
        for character in "CATHEDRALE" { _ = state.handle(.character(character), context()) }
        #expect(state.handle(.enter, context()) == [.returnToWall(from: "gare"), .rebuildTiles])
        #expect(state.filter == ConsoleState.Filter(text: "CATHEDRALE", ids: ["cathedrale"]) && state.mode == .wall)
        #expect(state.handle(.escape, context()) == [.rebuildTiles] && state.filter == nil)
        _ = state.handle(.character("/"), context())
        _ = state.handle(.character("z"), context())
        #expect(state.handle(.enter, context()) == [.message("no camera matches z")])
        _ = state.handle(.character(":"), context())
        _ = state.handle(.character("9"), context())
        #expect(state.handle(.enter, context()) == [.message("no camera 9")])
    }

    @Test func quitAsksFirstAndHelpClosesOnAnyKey() {
        var state = ConsoleState()
        #expect(state.handle(.character("q"), context()).isEmpty && state.overlay == .confirmQuit)
        #expect(state.handle(.character("n"), context()).isEmpty && state.overlay == .none, "anything but y: stay")
        _ = state.handle(.character("q"), context())
        #expect(state.handle(.character("y"), context()) == [.quit])
        #expect(state.handle(.character("?"), context()) == [.clearScreen] && state.overlay == .help)
        #expect(state.handle(.character("n"), context()) == [.redrawAll] && state.overlay == .none, "the key that closes help does nothing else")
        #expect(state.handle(.character("n"), context()) == [.nextPage])
        #expect(state.handle(.character("g"), context()) == [.nextGrid])
    }

    @Test func rAsksForTheRequisitionOrReasonRecordingsAreConsultedUnder() {
        var state = ConsoleState()
        #expect(state.handle(.character("R"), context()).isEmpty && state.overlay == .prompt(kind: "R", text: ""))
        for character in "PV 12" { _ = state.handle(.character(character), context()) }
        #expect(state.handle(.enter, context()) == [.consultUnder("PV 12")] && state.overlay == .none)
        _ = state.handle(.character("R"), context())
        #expect(state.handle(.enter, context()) == [.consultUnder("")], "an empty line goes back to the requisition that covers the footage")
    }

    @Test func wPlaysTheCameraAndItsNeighboursTogetherAndTheirTilesAreSwappedOrLeft() {
        var state = ConsoleState()
        state.mode = .isolated(cameraID: "quai")
        #expect(state.handle(.character("W"), context()).isEmpty, "live: there is no recorded time to share")
        #expect(state.handle(.character("W"), context(paused: false)) == [.synchronize(cameras: ["quai", "gare", "halles"])])
        #expect(state.mode == .synchronized(cameras: ["quai", "gare", "halles"]) && state.selected == 0)
        let wall = context(tiles: ["quai", "gare", "halles"], paused: false)
        // Driven together: the player keys act on the wall.
        #expect(state.handle(.character(" "), wall) == [.togglePlaybackPause])
        #expect(state.handle(.character("["), wall) == [.seekPlaybackBy(seconds: -10)])
        // The focus moves; N offers the focused camera's neighbours not on the wall yet.
        _ = state.handle(.right, wall)
        #expect(state.selected == 1)
        #expect(state.handle(.character("N"), wall) == [.message("Gare has no other neighbouring camera to swap in")])
        _ = state.handle(.left, wall)
        #expect(state.handle(.character("N"), wall) == [.message("Quai de Loire has no other neighbouring camera to swap in")])
        // Esc: the focused camera alone, at the wall's time.
        _ = state.handle(.right, wall)
        #expect(state.handle(.escape, wall) == [.leaveSynchronized(to: "gare")] && state.mode == .isolated(cameraID: "gare"))
        // A camera with no neighbour has no wall to make.
        state.mode = .isolated(cameraID: "cathedrale")
        #expect(state.handle(.character("W"), context(paused: false)) == [.message("no neighbouring camera to play beside this one")])
    }

    @Test func aSwapReplacesTheFocusedTileWithTheChosenNeighbour() {
        var state = ConsoleState()
        state.mode = .synchronized(cameras: ["gare", "cathedrale"])
        let wall = context(tiles: ["gare", "cathedrale"], paused: true)
        #expect(state.handle(.character("N"), wall).isEmpty)
        #expect(state.overlay == .neighbours(of: "gare", ids: ["quai"]))
        #expect(state.handle(.character("1"), wall) == [.redrawAll, .swapSynchronized(index: 0, camera: "quai")])
        #expect(state.mode == .synchronized(cameras: ["quai", "cathedrale"]))
        #expect(state.handle(.character("L"), wall) == [.leaveSynchronized(to: "quai"), .backToLive])
    }

    @Test func rListsTheRequisitionsAndAKeyOpensOnesFootage() {
        var state = ConsoleState()
        #expect(state.handle(.character("r"), context()) == [.clearScreen] && state.overlay == .requisitions(search: false))
        var known = context()
        let t = now.addingTimeInterval(-3600)
        known.requisitions = [
            RequisitionChoice(number: "PV 1", authority: "OPJ", status: "open", cameras: ["gare"], from: t, to: now, opensAt: t.addingTimeInterval(5)),
            RequisitionChoice(number: "PV 2", authority: "OPJ", status: "open", cameras: [], from: t, to: now),
        ]
        #expect(state.handle(.character("1"), known) == [.redrawAll, .openRequisition(number: "PV 1", cameras: ["gare"], at: t.addingTimeInterval(5))])
        #expect(state.mode == .isolated(cameraID: "gare"))
        // All cameras: a synchronised wall of the site's, at most nine.
        _ = state.handle(.character("r"), known)
        #expect(state.handle(.character("2"), known) == [.redrawAll, .openRequisition(number: "PV 2", cameras: ["quai", "gare", "halles", "cathedrale"], at: t)])
        #expect(state.mode == .synchronized(cameras: ["quai", "gare", "halles", "cathedrale"]))
        // A key with no requisition, or any other key, closes the list.
        _ = state.handle(.character("r"), known)
        #expect(state.handle(.character("9"), known) == [.redrawAll] && state.overlay == .none)
    }
}
