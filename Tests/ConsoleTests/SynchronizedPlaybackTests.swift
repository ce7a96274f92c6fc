import Foundation
import TestSupport
import Testing

/// Following a suspect street by street: a synchronised playback wall of three cameras at
/// one recorded time, in a real terminal (tmux), driven together (pause, step, seek), the
/// focus moved and a tile's camera swapped for one of its neighbours; a camera that recorded
/// nothing then says so instead of freezing its last picture.
@Suite(.serialized) struct SynchronizedPlaybackTests {
    static let cache = TestPaths.scratch.appendingPathComponent("sim-cache").path

    @Test func threeCamerasPlayAtOneTimeDrivenTogether() throws {
        let vigie = try #require(WallConsoleTests.vigie, "build vigie first")
        func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            try runProgram(vigie, arguments, environment: ["VIGIE_CACHE": Self.cache])
        }
        let folder = TestPaths.temporaryFolder("synchronized")
        let neighbours = ["anatole-france": ["beranger-est", "beranger-ouest"], "beranger-est": ["anatole-france", "boisdenier"],
                          "beranger-ouest": ["anatole-france"], "boisdenier": ["beranger-est"]]
        func site(_ ids: [String], _ name: String) throws -> URL {
            var yaml = "site:\n  name: Test\n  timezone: Europe/Paris\ncameras:\n"
            for id in ids {
                yaml += "  - id: \(id)\n    name: Rue \(id)\n    location: Ville\n    main: sim://\(id)/main\n"
                let near = (neighbours[id] ?? []).filter(ids.contains)
                if !near.isEmpty { yaml += "    neighbours: [\(near.joined(separator: ", "))]\n" }
            }
            let url = folder.appendingPathComponent(name)
            try yaml.write(to: url, atomically: true, encoding: .utf8)
            return url
        }
        let all = try site(["anatole-france", "beranger-est", "beranger-ouest", "boisdenier"], "site.yaml")
        // Then without beranger-ouest: it has a gap where the others have footage.
        let three = try site(["anatole-france", "beranger-est", "boisdenier"], "three.yaml")
        // (Footage depends on each camera's place in the site: both files are prepared.)
        #expect(try run(["sim", "prepare", "--site", all.path, "--stream", "main"]).status == 0)
        #expect(try run(["sim", "prepare", "--site", three.path, "--stream", "main"]).status == 0)
        let storage = folder.appendingPathComponent("storage").path
        let first = Date()
        #expect(try run(["record", "--site", all.path, "--storage", storage, "--segment-seconds", "5", "--duration", "16"]).status == 0)
        let between = Date()
        #expect(try run(["record", "--site", three.path, "--storage", storage, "--segment-seconds", "5", "--duration", "16"]).status == 0)
        // 3 s into the second recording (from the catalog, read by sqlite3).
        let catalog = storage + "/catalog.sqlite"
        let secondStart = try runProgram(
            "/usr/bin/sqlite3", [catalog, "SELECT MIN(start_us) FROM segments WHERE camera = 'anatole-france' AND start_us > \(Int64(between.timeIntervalSince1970 * 1e6) - 1_000_000)"]
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let second = Date(timeIntervalSince1970: Double(try #require(Int64(secondStart))) / 1e6 + 3)
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "Europe/Paris")
        format.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let common = ["--site", all.path, "--storage", storage]
        let entered = try run(
            ["requisition", "add", "--number", "PV 77", "--authority", "OPJ Petit", "--basis", "60-1", "--cameras", "all",
             "--from", format.string(from: first.addingTimeInterval(-60)), "--to", format.string(from: Date().addingTimeInterval(60))] + common)
        #expect(entered.status == 0, "\(entered)")

        let session = try WallConsoleTests.Session(
            command: "VIGIE_STATE=\(folder.path) VIGIE_CACHE=\(Self.cache) \(vigie) play anatole-france --at '\(format.string(from: first.addingTimeInterval(5)))' --with beranger-est,beranger-ouest --site \(all.path) --storage \(storage) --colors truecolor",
            columns: 160, rows: 48)
        /// Each tile's label: "PLAYBACK dd/MM/yyyy HH:MM:SS ... · N Rue ...".
        func labels() -> [String] {
            session.screen().split(separator: "\n").filter { !$0.contains("SYNCHRONISED") && $0.contains(" · ") }.flatMap { line in
                line.components(separatedBy: "PLAYBACK ").dropFirst().map { "PLAYBACK " + $0 }
            }
        }
        func times() -> [String] { labels().map { String($0.dropFirst("PLAYBACK ".count).prefix(19)) } }
        #expect(eventually(timeout: 25) { labels().count == 3 && session.statusLine.contains("SYNCHRONISED PLAYBACK 3 cameras") }, "\(session.screen())")
        #expect(eventually(timeout: 10) { session.screen(colours: true).components(separatedBy: "48;2;").count > 300 }, "pictures in the tiles")
        for name in ["Rue anatole-france", "Rue beranger-est", "Rue beranger-ouest"] { #expect(session.screen().contains(name)) }

        // Paused together, at one time; a step moves them all by a frame.
        session.keys("Space")
        #expect(eventually(timeout: 5) { labels().count == 3 && labels().allSatisfy { $0.contains("PAUSED") } }, "\(labels())")
        let paused = times()
        #expect(Set(paused).count == 1, "\(paused)")
        Thread.sleep(forTimeInterval: 1.5)
        #expect(times() == paused, "a paused wall stays at its time")
        for _ in 0..<30 { session.keys(".") }
        #expect(eventually(timeout: 5) { Set(times()).count == 1 && times() != paused }, "\(times()) after 30 steps from \(paused)")

        // Seek, all together, into the second recording: beranger-ouest recorded nothing then.
        session.keys("t")
        session.keys("-l", format.string(from: second))
        session.keys("Enter")
        #expect(eventually(timeout: 10) { labels().count == 3 && Set(times()).count == 1 && times().first?.hasSuffix(DateFormatter.clock(second)) == true },
                "\(labels())")
        #expect(eventually(timeout: 10) { session.screen().contains("NO FOOTAGE") && (labels().first { $0.contains("beranger-ouest") } ?? "").contains("NO FOOTAGE") },
                "\(session.screen())")
        #expect(!(labels().first { $0.contains("anatole-france") } ?? "NO FOOTAGE").contains("NO FOOTAGE"), "\(labels())")
        // And back into the first recording: beranger-ouest, ended a moment ago, shows pictures again.
        session.keys("t")
        session.keys("-l", format.string(from: first.addingTimeInterval(8)))
        session.keys("Enter")
        #expect(eventually(timeout: 10) { labels().count == 3 && !labels().contains { $0.contains("NO FOOTAGE") } && Set(times()).count == 1 }, "\(labels())")
        session.keys("t")
        session.keys("-l", format.string(from: second))
        session.keys("Enter")
        #expect(eventually(timeout: 10) { (labels().first { $0.contains("beranger-ouest") } ?? "").contains("NO FOOTAGE") }, "\(labels())")

        // The focus moves; the focused tile's camera is swapped for one of its neighbours.
        session.keys("Right")
        #expect(eventually(timeout: 5) { session.statusLine.contains("focus 2 Rue beranger-est") }, "\(session.statusLine)")
        session.keys("N")
        #expect(eventually(timeout: 5) { session.screen().contains("Rue boisdenier") }, "the neighbours offered")
        session.keys("1")
        #expect(eventually(timeout: 10) { labels().contains { $0.contains("Rue boisdenier") } && !labels().contains { $0.contains("Rue beranger-est") } }, "\(labels())")
        #expect(eventually(timeout: 10) { Set(times()).count == 1 }, "the camera swapped in plays at the wall's time: \(times())")

        // A smaller terminal: the players decode at the new tiles' size, the pictures go on.
        _ = try session.tmux(["resize-window", "-t", session.name, "-x", "130", "-y", "40"])
        session.keys("Space")
        #expect(eventually(timeout: 10) {
            let before = session.screen(colours: true)
            Thread.sleep(forTimeInterval: 0.6)
            return before.components(separatedBy: "48;2;").count > 200 && session.screen(colours: true) != before
        }, "pictures after the resize: \(session.screen())")
        session.keys("Space")
        // Esc: that camera alone, at the same time; q quits.
        session.keys("Escape")
        #expect(eventually(timeout: 10) { labels().count == 1 && labels()[0].contains("Rue boisdenier") && labels()[0].contains("PAUSED") && session.statusLine.contains("PLAYBACK 4 Rue boisdenier") }, "\(session.screen())")
        session.keys("q", "y")
        #expect(eventually(timeout: 10) { session.screen().contains("EXIT=0") })
        // Vidéoprotection (Coutances): the console opens on the requisitions, no live stream is
        // opened; a requisition's key plays its footage.
        let protection = try String(contentsOf: all, encoding: .utf8).replacingOccurrences(of: "  timezone: Europe/Paris\n", with: "  timezone: Europe/Paris\n  mode: videoprotection\n")
        let protected = folder.appendingPathComponent("videoprotection.yaml")
        try protection.write(to: protected, atomically: true, encoding: .utf8)
        let coutances = try WallConsoleTests.Session(
            command: "VIGIE_STATE=\(folder.path) VIGIE_CACHE=\(Self.cache) \(vigie) wall --site \(protected.path) --storage \(storage) --colors truecolor",
            columns: 160, rows: 48)
        #expect(eventually(timeout: 15) { coutances.screen().contains("Requisitions open to consultation") && coutances.screen().contains("1  PV 77  open  OPJ Petit  all cameras") },
                "\(coutances.screen())")
        #expect(coutances.statusLine.contains("VIDÉOPROTECTION — no live view"))
        Thread.sleep(forTimeInterval: 2)
        #expect(!coutances.screen().contains("CONNECTING") && !coutances.screen().contains("NO SIGNAL"), "no live stream is opened: \(coutances.screen())")
        coutances.keys("1")
        #expect(eventually(timeout: 15) { coutances.statusLine.contains("SYNCHRONISED PLAYBACK 4 cameras") }, "\(coutances.screen())")
        #expect(eventually(timeout: 15) { coutances.screen(colours: true).components(separatedBy: "48;2;").count > 300 }, "pictures of the requisition's footage")
        coutances.keys("q", "y")
        #expect(eventually(timeout: 10) { coutances.screen().contains("EXIT=0") })
        let audit = try run(["audit", "show", "--requisition", "PV 77"] + common).stdout
        for camera in ["anatole-france", "beranger-est", "beranger-ouest", "boisdenier"] {
            #expect(audit.contains("recording.play  camera \(camera)  requisition PV 77"), "\(camera) in \(audit)")
        }
    }
}

extension DateFormatter {
    /// "HH:mm:ss" in Paris, as the labels show the time.
    static func clock(_ date: Date) -> String {
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "Europe/Paris")
        format.dateFormat = "HH:mm:ss"
        return format.string(from: date)
    }
}
