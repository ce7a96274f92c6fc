import Foundation
import TestSupport
import Testing

/// The investigation screen in a real terminal (tmux), on footage of the simulated town
/// written as recorded segments: the technician opens it on a requisition (S), starts the
/// analysis (a) and watches its progress, asks for the red vehicles (o), sees their
/// thumbnails drawn, follows one (f) and plays it with its neighbours (Enter). Each search
/// and the run are in the audit log with the requisition.
@Suite(.serialized) struct InvestigationConsoleTests {
    @Test func aRequisitionIsAnalysedSearchedAndFollowedFromTheConsole() throws {
        let vigie = try #require(WallConsoleTests.vigie, "build vigie first")
        let folder = TestPaths.temporaryFolder("investigation")
        defer { try? FileManager.default.removeItem(at: folder) }
        let site = TestPaths.repository.appendingPathComponent("bench/fixtures/analysis-town.yaml").path
        let storage = folder.appendingPathComponent("store").path
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "Europe/Paris")
        formatter.dateFormat = "yyyy-MM-dd"
        let day = formatter.string(from: Date().addingTimeInterval(-86_400))
        let common = ["--site", site, "--storage", storage]
        let archived = try runProgram(vigie, ["sim", "archive"] + common + ["--from", "\(day) 10:00:00", "--to", "\(day) 10:00:40"])
        #expect(archived.status == 0, "\(archived.stderr)")
        let entered = try runProgram(
            vigie, ["requisition", "add"] + common + ["--number", "PV-42", "--authority", "OPJ test", "--basis", "77-1-1", "--cameras", "all",
                                                        "--from", "\(day) 10:00:00", "--to", "\(day) 10:00:40"])
        #expect(entered.status == 0, "\(entered.stderr)")
        let console = try WallConsoleTests.Session(
            command: "VIGIE_STATE=\(folder.path)/state \(vigie) wall --site \(site) --storage \(storage) --colors truecolor --graphics half", columns: 140, rows: 40)
        // Vidéoprotection: the console opens on the requisitions; S asks which one to investigate.
        #expect(eventually(timeout: 20) { console.screen().contains("Requisitions open to consultation") }, "\(console.screen())")
        console.keys("Escape")
        console.keys("S")
        #expect(eventually(timeout: 10) { console.screen().contains("Investigate which requisition?") && console.screen().contains("PV-42") }, "\(console.screen())")
        console.keys("1")
        #expect(eventually(timeout: 10) { console.screen().contains("analysis idle 0% · 0/5 segments") }, "\(console.screen())")
        console.keys("a")
        #expect(eventually(timeout: 10) { console.screen().contains("analysis running") || console.screen().contains("analysis done") }, "\(console.screen())")
        try #require(eventually(timeout: 600, every: 1) { console.screen().contains("analysis done 100% · 5/5 segments") }, "the analysis did not end (is the engine installed? scripts/install-analysis): \(console.screen())")
        // Its end brings the passages indexed into the list, without a key.
        #expect(eventually(timeout: 10) { console.screen().contains(" 1. ") && !console.screen().contains(" of 0 passage(s) indexed") }, "\(console.screen())")
        console.keys("o")
        #expect(eventually(timeout: 10) { console.screen().contains("colour red │") && console.screen().contains(" 2. ") }, "\(console.screen())")
        let list = console.screen().split(separator: "\n").filter { $0.contains(" · score ") }
        #expect(list.count >= 2 && list.allSatisfy { $0.contains("red") }, "\(list)")
        // The thumbnails: pictures in true colour left of the results, reddish in the first.
        #expect(eventually(timeout: 10) {
            let row = console.screen(colours: true).split(separator: "\n").first { $0.contains(" · score ") } ?? ""
            return row.components(separatedBy: "48;2;").count > 4
        }, "\(console.screen(colours: true).prefix(3000))")
        console.keys("f")
        #expect(eventually(timeout: 10) { console.screen().contains("following passage") && console.screen().contains("followed: ") }, "\(console.screen())")
        console.keys("Enter")
        #expect(eventually(timeout: 15) { console.statusLine.contains("SYNCHRONISED PLAYBACK") || console.statusLine.contains("PLAYBACK") }, "\(console.screen())")
        #expect(eventually(timeout: 15) { console.screen().hasPrefix("PLAYBACK ") }, "\(console.screen())")
        // The focused camera's timeline, over the status bar, marks the passage played (and the route's on this camera).
        #expect(eventually(timeout: 15) {
            // The legend's ▲ and at least one column's.
            console.screen().split(separator: "\n").contains { $0.contains("━") && ($0.hasSuffix("▲ route") || $0.hasSuffix("▲ passage")) && $0.components(separatedBy: "▲").count >= 3 }
        }, "\(console.screen())")
        // S brings the screen back as it was left.
        console.keys("S")
        #expect(eventually(timeout: 10) { console.screen().contains("following passage") }, "\(console.screen())")
        console.keys("q", "y")
        #expect(eventually(timeout: 15) { console.screen().contains("EXIT=0") }, "\(console.screen())")
        let audit = try runProgram("/usr/bin/sqlite3", [storage + "/catalog.sqlite", "SELECT action || ' ' || IFNULL(requisition, '') || ' ' || detail FROM audit"]).stdout
        for expected in ["analysis.run PV-42 analysis of 5 segment(s)", "analysis.run PV-42 finished: 5 segment(s) analysed", "search PV-42 colour red:", "search PV-42 like passage", "recording.play PV-42"] {
            #expect(audit.contains(expected), "\(expected) in:\n\(audit)")
        }
    }
}
