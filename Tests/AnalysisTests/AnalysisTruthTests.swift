import Foundation
import Testing
import TestSupport

/// The whole analysis against the simulated city's truth, through the commands a
/// technician runs: two minutes of the five cameras of bench/fixtures/analysis-town.yaml
/// written as recorded segments (`vigie sim archive`), a requisition over them, `vigie
/// analyse`, then `vigie sim score`, which matches every passage to what the cameras
/// really showed. The thresholds are well under what the pipeline scores (precision 0.97,
/// recall 0.77 for red vehicles when this test was written) and well over what a wrong one
/// does: before its tracker compared looks, the same pipeline scored precision 0.31.
@Suite(.serialized) struct AnalysisTruthTests {
    struct Score: Decodable {
        var passages: Int
        var matched: Int
        var precision: Double
        var recall: Double
        var truth: Int
        var follow_top5: Double
        var follow_vehicles: Int
    }

    @Test func redVehiclesOfARecordedRequisitionAreFoundAsTheTruthSays() throws {
        let vigie = try #require(TestPaths.vigie, "build vigie first")
        let folder = TestPaths.temporaryFolder("analysis-truth")
        defer { try? FileManager.default.removeItem(at: folder) }
        let site = TestPaths.repository.appendingPathComponent("bench/fixtures/analysis-town.yaml").path
        let storage = folder.appendingPathComponent("store").path
        let paris = TimeZone(identifier: "Europe/Paris")!
        let formatter = DateFormatter()
        formatter.timeZone = paris
        formatter.dateFormat = "yyyy-MM-dd"
        let day = formatter.string(from: Date().addingTimeInterval(-86_400))
        let from = "\(day) 10:00:00", to = "\(day) 10:02:00"
        let common = ["--site", site, "--storage", storage]

        let archived = try runProgram(vigie, ["sim", "archive"] + common + ["--from", from, "--to", to])
        #expect(archived.status == 0, "\(archived.stderr)")
        // Both streams of each camera, as the recorder records them; the analysis reads the main ones.
        #expect(archived.stdout.components(separatedBy: "\n").filter { $0.contains("main 2 segments, 120 s of footage") }.count == 5, "\(archived.stdout)")
        #expect(archived.stdout.components(separatedBy: "\n").filter { $0.contains("sub  2 segments, 120 s of footage") }.count == 5, "\(archived.stdout)")
        let entered = try runProgram(
            vigie, ["requisition", "add"] + common + ["--number", "PV-TRUTH", "--authority", "OPJ test", "--basis", "77-1-1", "--cameras", "all", "--from", from, "--to", to])
        #expect(entered.status == 0, "\(entered.stderr)")

        let analysed = try runProgram(vigie, ["analyse"] + common + ["--requisition", "PV-TRUTH"])
        try #require(analysed.status == 0, "the analysis failed (is the engine installed? scripts/install-analysis): \(analysed.stdout) \(analysed.stderr)")
        #expect(analysed.stdout.contains("done [####################] 100%, 10/10 segments, 600/600 s of footage"), "\(analysed.stdout)")
        #expect(analysed.stdout.contains("camera-hours per CPU-hour"), "\(analysed.stdout)")

        let scored = try runProgram(vigie, ["sim", "score"] + common + ["--requisition", "PV-TRUTH", "--format", "json"])
        try #require(scored.status == 0, "\(scored.stderr)")
        let score = try JSONDecoder().decode(Score.self, from: Data(scored.stdout.utf8))
        #expect(score.truth >= 15, "the two minutes show red vehicles")
        #expect(score.precision >= 0.85, "red vehicles: precision \(score.precision)")
        #expect(score.recall >= 0.65, "red vehicles: recall \(score.recall)")
        // Passages are objects that were there, not boxes per picture: most match the
        // truth, and there are not many more than true sightings.
        #expect(Double(score.matched) >= 0.85 * Double(score.passages), "\(score.matched) of \(score.passages) passages match the truth")
        #expect(score.follow_vehicles >= 5)

        // A second run finds everything analysed: nothing is indexed twice.
        let again = try runProgram(vigie, ["analyse"] + common + ["--requisition", "PV-TRUTH"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("\(score.passages) passages"), "\(again.stdout)")
        #expect(!again.stdout.contains("camera-hours per CPU-hour"), "nothing was analysed again: \(again.stdout)")
        // --again drops the index and makes it again: the same passages (the pipeline is deterministic).
        let redone = try runProgram(vigie, ["analyse"] + common + ["--requisition", "PV-TRUTH", "--again"])
        #expect(redone.status == 0, "\(redone.stderr)")
        #expect(redone.stdout.contains("10/10 segments, 600/600 s of footage, \(score.passages) passages"), "\(redone.stdout)")
        #expect(redone.stdout.contains("camera-hours per CPU-hour"))
        let audit = try runProgram(vigie, ["audit", "show"] + common + ["--requisition", "PV-TRUTH"])
        #expect(audit.stdout.contains("index dropped to analyse again: \(score.passages) passage(s)"), "\(audit.stdout.suffix(2000))")
    }
}
