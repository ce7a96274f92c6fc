import ConsoleCore
import Foundation
import RecorderAPI
import RecorderCore
import Testing

/// The investigation screen's decisions without a terminal: criteria, selection, following,
/// playing a passage with its neighbours, and how the console's keys reach it.
struct SearchScreenTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func passage(_ id: Int64, _ camera: String, at offset: Double = 0) -> PassageInfo {
        PassageInfo(
            id: id, camera: camera, start: start.addingTimeInterval(offset), end: start.addingTimeInterval(offset + 4), objectClass: "car", confidence: 0.9,
            colours: ["red": 0.8], colour: "red", direction: "left-to-right", score: 0.72)
    }

    func context(_ results: [PassageInfo]?, route: [PassageInfo]? = nil, rows: Int = 3, mayPlay: @escaping (String) -> Bool = { _ in true }) -> SearchScreen.Context {
        SearchScreen.Context(
            results: results, route: route, visibleRows: rows, neighbours: { ["quai": ["gare", "halles"], "gare": ["quai"]][$0] ?? [] }, mayPlay: mayPlay)
    }

    @Test func criteriaGoRoundAndEachIsANewSearchFromTheTop() {
        var screen = SearchScreen(requisition: "PV 31")
        #expect(screen.request == SearchRequest(requisition: "PV 31", limit: SearchScreen.limit))
        let results = (1...10).map { passage(Int64($0), "quai") }
        for _ in 0..<4 { _ = screen.handle(.down, context(results)) }
        #expect(screen.selected == 4 && screen.top == 2, "the list scrolls with the selection")
        #expect(screen.handle(.character("o"), context(results)) == .stay)
        #expect(screen.colour == "red" && screen.selected == 0 && screen.top == 0)
        _ = screen.handle(.character("o"), context(results))
        #expect(screen.colour == "maroon", "close shades side by side")
        _ = screen.handle(.character("c"), context(results))
        #expect(screen.request.objectClass == "car" && screen.request.colour == "maroon" && screen.request.like == nil)
        for _ in 1..<SearchScreen.classes.count { _ = screen.handle(.character("c"), context(results)) }
        #expect(screen.objectClass == nil, "the classes go round back to any")
        _ = screen.handle(.character("x"), context(results))
        #expect(screen.colour == nil && screen.criteria == "class any · colour any")
        _ = screen.handle(.pageDown, context(results))
        _ = screen.handle(.pageDown, context(results))
        _ = screen.handle(.pageDown, context(results))
        #expect(screen.selected == 9 && screen.top == 7, "never past the last result")
        #expect(screen.handle(.down, context(nil)) == .stay && screen.selected == 9, "no results yet: nothing moves")
    }

    @Test func followingAVehicleAndComingBackToTheSearch() {
        var screen = SearchScreen(requisition: "PV 31")
        screen.colour = "red"
        let results = [passage(5, "quai"), passage(8, "gare", at: 30), passage(9, "halles", at: 60)]
        _ = screen.handle(.down, context(results))
        #expect(screen.handle(.character("f"), context(results)) == .stay)
        #expect(screen.following == 8 && screen.request == SearchRequest(requisition: "PV 31", like: 8, limit: SearchScreen.limit))
        #expect(screen.selected == 0 && screen.criteria == "following passage 8")
        #expect(screen.handle(.character("o"), context(results)).isMessage, "criteria do not apply to following")
        _ = screen.handle(.down, context(results))
        #expect(screen.handle(.character("f"), context(results)).isMessage && screen.following == 8, "the passage followed is not followed again")
        #expect(screen.handle(.escape, context(results)) == .stay, "Esc leaves the following first")
        #expect(screen.following == nil && screen.selected == 1 && screen.colour == "red", "back where the search was")
        #expect(screen.handle(.escape, context(results)) == .close)
        var empty = SearchScreen(requisition: "X")
        #expect(empty.handle(.character("f"), context([])).isMessage)
    }

    @Test func enterPlaysThePassageWithItsNeighboursThatMayBePlayed() {
        var screen = SearchScreen(requisition: "PV 31")
        let results = [passage(5, "quai", at: 10), passage(6, "gare")]
        let mark = [TimelineMark(camera: "quai", start: start.addingTimeInterval(10), end: start.addingTimeInterval(14), passage: 5, chosen: true)]
        #expect(
            screen.handle(.enter, context(results))
                == .play(camera: "quai", cameras: ["quai", "gare", "halles"], at: start.addingTimeInterval(10 - SearchScreen.leadIn), marks: mark))
        #expect(screen.handle(.enter, context(results, mayPlay: { $0 != "halles" })) == .play(camera: "quai", cameras: ["quai", "gare"], at: start.addingTimeInterval(7), marks: mark))
        #expect(screen.handle(.enter, context(results, mayPlay: { $0 != "quai" })).isMessage, "a camera the account may not play is said, not opened")
        #expect(screen.handle(.character("a"), context(results)) == .startAnalysis)
        #expect(screen.handle(.character("s"), context(results)) == .stopAnalysis)
        #expect(screen.handle(.character("r"), context(results)) == .chooseRequisition)
    }

    @Test func theConsoleOpensTheScreenOnTheRequisitionConsultedAndKeepsIt() {
        var state = ConsoleState()
        var context = ConsoleStateTests().context()
        context.requisitions = [RequisitionChoice(number: "PV 31", authority: "OPJ", status: "open", cameras: [], from: start, to: start.addingTimeInterval(600))]
        #expect(state.handle(.character("S"), context) == [.clearScreen])
        #expect(state.overlay == .requisitions(search: true), "no requisition consulted: which one is asked")
        #expect(state.handle(.character("1"), context) == [.clearScreen])
        guard case .search(let opened) = state.overlay else { Issue.record("not the investigation screen: \(state.overlay)"); return }
        #expect(opened.requisition == "PV 31")
        context.searchResults = [passage(5, "quai", at: 10)]
        context.searchRows = 5
        #expect(state.handle(.character("o"), context).isEmpty)
        #expect(state.handle(.character("a"), context) == [.startAnalysis(requisition: "PV 31")])
        let actions = state.handle(.enter, context)
        #expect(actions == [.redrawAll, .openRequisition(number: "PV 31", cameras: ["quai", "gare", "halles"], at: start.addingTimeInterval(7))])
        #expect(state.mode == .synchronized(cameras: ["quai", "gare", "halles"]) && state.overlay == .none)
        // S again: the screen as it was left (its colour), on the requisition now consulted.
        context.currentRequisition = "PV 31"
        _ = state.handle(.character("S"), context)
        guard case .search(let again) = state.overlay else { Issue.record("not reopened"); return }
        #expect(again.colour == "red")
        _ = state.handle(.character("?"), context)
        #expect(state.overlay == .help)
        #expect(state.handle(.character(" "), context) == [.clearScreen])
        #expect(state.overlay == .search(again), "the help closes back onto the screen")
        // Another requisition consulted: a new screen on it.
        context.currentRequisition = "PV 40"
        _ = state.handle(.escape, context)
        _ = state.handle(.character("S"), context)
        #expect(state.overlay == .search(SearchScreen(requisition: "PV 40")))
    }

    @Test func playingAFollowedPassageMarksTheRouteOnTheTimelinesUntilBackToLive() {
        var state = ConsoleState()
        var context = ConsoleStateTests().context()
        context.currentRequisition = "PV 31"
        _ = state.handle(.character("S"), context)
        let followed = passage(5, "quai", at: 10), next = passage(8, "gare", at: 30), elsewhere = passage(9, "halles", at: 200)
        context.searchResults = [followed, next, elsewhere]
        _ = state.handle(.character("f"), context)
        context.searchResults = [next, elsewhere]
        context.searchRoute = [followed, next]
        _ = state.handle(.down, context)
        #expect(state.handle(.enter, context).contains(.openRequisition(number: "PV 31", cameras: ["halles", "quai"], at: start.addingTimeInterval(197))))
        #expect(state.timelineMarks.map(\.passage) == [5, 8, 9], "the route, and the passage chosen off it")
        #expect(state.timelineMarks.filter(\.chosen).map(\.camera) == ["halles"])
        _ = state.handle(.character("L"), context)
        #expect(state.timelineMarks.isEmpty, "back to live: the marks are gone")
        // A search by colour: only the passage played is marked.
        _ = state.handle(.character("S"), context)
        _ = state.handle(.escape, context)
        context.searchResults = [followed]
        context.searchRoute = nil
        _ = state.handle(.enter, context)
        #expect(state.timelineMarks.map(\.passage) == [5])
        _ = state.handle(.escape, context)
        _ = state.handle(.escape, context)
        #expect(state.mode == .wall && state.timelineMarks.isEmpty)
    }

    @Test func progressInWords() {
        var status = AnalysisStatus(requisition: "PV", state: "running", segmentsTotal: 10, segmentsDone: 4, secondsTotal: 600, secondsDone: 240, passages: 12, remaining: 150)
        #expect(AnalysisProgress.line(status) == "analysis running 40% · 4/10 segments · 12 passages · about 3 min left")
        #expect(AnalysisProgress.bar(status, width: 10) == "████░░░░░░")
        status.remaining = nil
        #expect(AnalysisProgress.line(status).hasSuffix("estimating the time left"))
        status.state = "done"
        status.secondsDone = 600
        #expect(AnalysisProgress.bar(status, width: 4) == "████" && !AnalysisProgress.line(status).contains("left"))
        #expect(AnalysisProgress.duration(45) == "45 s" && AnalysisProgress.duration(7_500) == "2 h 05")
    }
}

extension SearchScreen.Outcome {
    var isMessage: Bool {
        if case .message = self { return true }
        return false
    }
}
