import Foundation
import TestSupport
import Testing

/// `vigie wall` driven in a real terminal (tmux): keys in with send-keys, screen out with
/// capture-pane (with colours, so pictures can be told from text).
@Suite(.serialized) struct WallConsoleTests {
    static let vigie = TestPaths.vigie

    final class Session {
        let name = "vigie-test-\(UUID().uuidString.prefix(8))"
        let folder = TestPaths.temporaryFolder("wall")
        /// A tmux server of the tests' own: a developer's tmux clients cannot change the
        /// session's size or mouse.
        static let server = ["-L", "vigie-tests-\(getpid())"]

        func tmux(_ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
            try runProgram("/usr/bin/tmux", Session.server + arguments, environment: environment)
        }

        init(command: String, columns: Int = 120, rows: Int = 40) throws {
            let script = folder.appendingPathComponent("run.sh")
            try "#!/bin/sh\n\(command)\necho EXIT=$?\nsleep 30\n".write(to: script, atomically: true, encoding: .utf8)
            chmod(script.path, 0o755)
            let result = try tmux(
                ["new-session", "-d", "-s", name, "-x", "\(columns)", "-y", "\(rows)", script.path],
                environment: ["TERM": "xterm-256color", "COLORTERM": "truecolor"])
            guard result.status == 0 else { throw FixtureError("tmux: \(result.stderr)") }
        }

        func screen(colours: Bool = false) -> String {
            do {
                let result = try tmux(["capture-pane", "-p"] + (colours ? ["-e"] : []) + ["-t", name])
                return result.status == 0 ? result.stdout : "tmux capture-pane failed (\(result.status)): \(result.stderr)"
            } catch {
                return "tmux capture-pane failed: \(error)"
            }
        }

        var statusLine: String { screen().split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }.last.map(String.init) ?? "" }

        /// A left click at a 0-based cell, as an xterm sends it (X10 mouse: press then release).
        func click(row: Int, column: Int, times: Int = 1) {
            let place = String(UnicodeScalar(UInt8(33 + column))) + String(UnicodeScalar(UInt8(33 + row)))
            let one = "\u{1B}[M " + place + "\u{1B}[M#" + place
            _ = try? tmux(["send-keys", "-t", name, "-l", String(repeating: one, count: times)])
        }

        func keys(_ keys: String...) {
            _ = try? tmux(["send-keys", "-t", name] + keys)
        }

        deinit { _ = try? tmux(["kill-session", "-t", name]) }
    }

    /// The same wall and keys embedded (the console opens the cameras) and as the client of a
    /// recorder on its socket (the cameras relayed by it): the console cannot tell them apart.
    @Test(arguments: ["embedded", "recorder"])
    func theWallShowsPicturesZapsIsolatesAndQuits(through: String) throws {
        let vigie = try #require(WallConsoleTests.vigie, "build vigie first")
        let folder = TestPaths.temporaryFolder("wall-site")
        let site = folder.appendingPathComponent("site.yaml"), layout = folder.appendingPathComponent("wall.yaml")
        var yaml = "site:\n  name: Test\n  timezone: Europe/Paris\ncameras:\n"
        for (id, name) in [("a", "Rue A"), ("b", "Rue B"), ("c", "Place C"), ("d", "Pont D")] {
            yaml += "  - id: \(id)\n    name: \(name)\n    location: Ville\n    main: sim://\(id)/main\n    sub: sim://\(id)/sub\n    neighbours: [\(["a", "b", "c", "d"].filter { $0 != id }.joined(separator: ", "))]\n"
        }
        try yaml.write(to: site, atomically: true, encoding: .utf8)
        try "wall:\n  name: Mur test\n  cameras: site.yaml\n  grid: 2x1\n  dwell: 4\npages:\n  - name: Nord\n    cameras: [a, b]\n  - name: Sud\n    cameras: [c, d]\n"
            .write(to: layout, atomically: true, encoding: .utf8)
        let cache = TestPaths.scratch.appendingPathComponent("wall-cache").path
        let state = folder.appendingPathComponent("state").path
        // Footage first, so the test waits on the console, not on the simulator.
        let prepared = try runProgram(vigie, ["sim", "prepare", "--site", site.path, "--stream", "sub"], environment: ["VIGIE_CACHE": cache])
        #expect(prepared.status == 0, "\(prepared.stderr)")
        var recorder: ChildProcess? = nil
        defer {
            recorder?.kill(SIGTERM)
            _ = recorder?.wait()
        }
        var server = ""
        if through == "recorder" {
            // A recorder recording one camera (its main stream), relaying them all.
            #expect(try runProgram(vigie, ["sim", "prepare", "--site", site.path, "--cameras", "a", "--stream", "main"], environment: ["VIGIE_CACHE": cache]).status == 0)
            let storage = state + "/storage", socket = storage + "/recorder.sock"
            try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
            recorder = try ChildProcess(
                vigie, ["record", "--site", site.path, "--storage", storage, "--cameras", "a", "--duration", "120"],
                environment: ProcessInfo.processInfo.environment.merging(["VIGIE_CACHE": cache]) { $1 }, stderr: folder.appendingPathComponent("record.log").path)
            #expect(eventually(timeout: 30) { FileManager.default.fileExists(atPath: socket) })
            server = " --server \(socket)"
        }

        let session = try Session(
            command: "VIGIE_CACHE=\(cache) VIGIE_STATE=\(state) VIGIE_STORAGE=\(state)/storage \(vigie) wall --layout \(layout.path) --colors truecolor\(server)")
        // Tiles show pictures: truecolor cells in the picture rows, labels with names.
        #expect(eventually(timeout: 30) { session.screen(colours: true).components(separatedBy: "48;2;").count > 200 })
        #expect(session.screen().contains("1 Rue A — Ville"))
        #expect(session.statusLine.contains("Mur test") && session.statusLine.contains("page 1/2 Nord"))
        // The page zaps after its dwell.
        #expect(eventually(timeout: 10) { session.statusLine.contains("page 2/2 Sud") })
        #expect(session.screen().contains("3 Place C"))

        // Space pauses; Enter isolates the selected camera; Escape comes back to the same page.
        session.keys("Space")
        #expect(eventually(timeout: 5) { session.statusLine.contains("PAUSED") })
        session.keys("Enter")
        #expect(eventually(timeout: 5) { session.statusLine.contains("ISOLATED 3 Place C") })
        session.keys("Escape")
        #expect(eventually(timeout: 5) { session.statusLine.contains("page 2/2 Sud") })
        // : then a camera number isolates it.
        session.keys(":", "2", "Enter")
        #expect(eventually(timeout: 5) { session.statusLine.contains("ISOLATED 2 Rue B") })
        // N lists the neighbours by key, with their names; the third one (d) is chosen.
        session.keys("N")
        #expect(eventually(timeout: 5) {
            let screen = session.screen()
            return screen.contains("Neighbours of Rue B") && screen.contains("1  1 Rue A — Ville") && screen.contains("3  4 Pont D")
        })
        session.keys("3")
        #expect(eventually(timeout: 5) { session.statusLine.contains("ISOLATED 4 Pont D") })
        session.keys("N", "Escape")
        #expect(eventually(timeout: 5) { !session.screen().contains("Neighbours of") && session.statusLine.contains("ISOLATED 4 Pont D") })
        session.keys("Escape")
        // The mouse: a double click on the right tile of the page (Sud: c, d) isolates it.
        session.click(row: 10, column: 90, times: 2)
        #expect(eventually(timeout: 5) { session.statusLine.contains("ISOLATED 4 Pont D") })
        session.keys("Escape")
        #expect(eventually(timeout: 5) { session.statusLine.contains("page 2/2 Sud") })
        // Rotating again, an isolation longer than the dwell (4 s) still comes back to the same page.
        session.keys("Space")
        #expect(eventually(timeout: 5) { !session.statusLine.contains("PAUSED") })
        session.keys("Enter")
        #expect(eventually(timeout: 5) { session.statusLine.contains("ISOLATED") })
        Thread.sleep(forTimeInterval: 6)
        session.keys("Escape")
        #expect(eventually(timeout: 5) { !session.statusLine.contains("ISOLATED") })
        #expect(session.statusLine.contains("page 2/2 Sud"), "\(session.statusLine)")
        // The help lists the keys; any key closes it.
        session.keys("?")
        #expect(eventually(timeout: 5) { session.screen().contains("Vigie — keys") })
        // Whole lines, none cut short.
        #expect(session.screen().contains("there with its neighbours, a / s start / stop analysis"))
        session.keys("x")
        #expect(eventually(timeout: 5) { !session.screen().contains("Vigie — keys") })
        // q asks first; n keeps the console running; y quits and restores the terminal.
        session.keys("q")
        #expect(eventually(timeout: 5) { session.statusLine.contains("Quit Vigie?") })
        session.keys("n")
        #expect(eventually(timeout: 5) { !session.statusLine.contains("Quit Vigie?") })
        session.keys("q", "y")
        #expect(eventually(timeout: 10) { session.screen().contains("EXIT=0") }, "\(session.screen())")
        recorder?.kill(SIGTERM)
        _ = recorder?.wait()
        recorder = nil

        // Every operator action is in the audit log (written by the recorder through it): who,
        // when, what, which camera; the chain is whole.
        let events = try runProgram(vigie, ["audit", "show", "--site", site.path, "--storage", state + "/storage"]).stdout
        for action in ["console.start", "wall.pause", "camera.isolate", "camera.return", "console.stop"] {
            #expect(events.contains("  \(action)"), "missing \(action)")
        }
        #expect(events.contains("camera.isolate  camera c"))
        #expect(try runProgram(vigie, ["audit", "verify", "--storage", state + "/storage"]).status == 0)
    }

    @Test func aLostCameraSaysSoOverItsPictureAndComesBack() throws {
        let vigie = try #require(WallConsoleTests.vigie, "build vigie first")
        let fixture = try RTSPFixture(cameras: 2, basePort: RTSPFixture.randomBasePort())
        defer { fixture.stopAll() }
        let folder = TestPaths.temporaryFolder("wall-rtsp")
        let site = folder.appendingPathComponent("site.yaml")
        var yaml = "site:\n  name: Test\n  timezone: Europe/Paris\ncameras:\n"
        for (index, url) in fixture.urls.enumerated() {
            yaml += "  - id: cam\(index)\n    name: Caméra \(index)\n    location: Loopback\n    main: \(url)\n"
        }
        try yaml.write(to: site, atomically: true, encoding: .utf8)
        let state = folder.appendingPathComponent("state").path
        let session = try Session(
            command: "VIGIE_STATE=\(state) VIGIE_STORAGE=\(state)/storage \(vigie) wall --site \(site.path) --colors truecolor --max-rate 200k --log-level debug --record")
        #expect(eventually(timeout: 30) { session.screen(colours: true).components(separatedBy: "48;2;").count > 100 })
        session.keys("g")  // 4x4 to 5x5: both cameras stay on the page
        // --record: the console records too, and the labels say so.
        #expect(eventually(timeout: 20) { session.screen().contains("● REC") })

        try fixture.stop(0)
        // The label and the picture both say it: the banner is drawn over the darkened picture.
        #expect(eventually(timeout: 20) { session.screen().components(separatedBy: "NO SIGNAL").count >= 3 }, "\(session.screen())")
        try fixture.restart(0)
        #expect(eventually(timeout: 40) { !session.screen().contains("NO SIGNAL") })
        session.keys("q", "y")
        #expect(eventually(timeout: 10) { session.screen().contains("EXIT=0") })
    }

    /// The same console and keys, its recordings read from the files here or through the
    /// recorder that holds them (its socket): the console cannot tell them apart.
    @Test(arguments: ["files", "recorder"])
    func recordingsPlayBackInTheConsoleWithTheirKeysAndTheAuditLogSaysSo(through: String) throws {
        let vigie = try #require(WallConsoleTests.vigie, "build vigie first")
        let fixture = try RTSPFixture(cameras: 1, basePort: RTSPFixture.randomBasePort())
        defer { fixture.stopAll() }
        let folder = TestPaths.temporaryFolder("play")
        let site = folder.appendingPathComponent("site.yaml")
        try "site:\n  name: Test\n  timezone: Europe/Paris\ncameras:\n  - id: cam0\n    name: Quai\n    location: Loopback\n    main: \(fixture.urls[0])\n"
            .write(to: site, atomically: true, encoding: .utf8)
        let storage = folder.appendingPathComponent("storage").path
        let recorded = try runProgram(
            vigie, ["record", "--site", site.path, "--storage", storage, "--segment-seconds", "3", "--duration", "9", "--retention-every", "0"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let list = try runProgram(vigie, ["recordings", "list", "cam0", "--site", site.path, "--storage", storage]).stdout
        // "YYYY-MM-DD HH:MM:SS +01:00" of the first segment.
        let first = String(try #require(list.split(separator: "\n").first).prefix(26))
        var recorder: ChildProcess? = nil
        defer {
            recorder?.kill(SIGTERM)
            _ = recorder?.wait()
        }
        var source = "--site \(site.path) --storage \(storage)"
        if through == "recorder" {
            let socket = storage + "/recorder.sock"
            recorder = try ChildProcess(
                vigie, ["record", "--site", site.path, "--storage", storage, "--segment-seconds", "3", "--duration", "60", "--retention-every", "0"],
                stderr: folder.appendingPathComponent("record.log").path)
            #expect(eventually(timeout: 20) { FileManager.default.fileExists(atPath: socket) })
            source = "--server \(socket)"
        }
        let session = try Session(
            command: "VIGIE_STATE=\(folder.path) \(vigie) play cam0 --at '\(first)' \(source) --colors truecolor --reason 'PV 9'")
        func label() -> String { session.screen().split(separator: "\n").first.map(String.init) ?? "" }
        #expect(eventually(timeout: 20) { label().hasPrefix("PLAYBACK ") && label().contains("Quai") })
        #expect(eventually(timeout: 10) { session.screen(colours: true).components(separatedBy: "48;2;").count > 100 })
        // The timeline under the pane shows recorded footage around the cursor.
        #expect(eventually(timeout: 5) { session.screen().contains("━┃") || session.screen().contains("┃━") }, "\(session.screen())")
        session.keys("Space")
        #expect(eventually(timeout: 5) { label().contains("PAUSED") })
        session.keys("+")
        #expect(eventually(timeout: 5) { label().contains("×2") })
        session.keys("L")
        #expect(eventually(timeout: 5) { !label().contains("PLAYBACK") && session.statusLine.contains("ISOLATED") })
        session.keys("q", "y")
        #expect(eventually(timeout: 10) { session.screen().contains("EXIT=0") })
        let audit = try runProgram(vigie, ["audit", "show", "--site", site.path, "--storage", storage, "--camera", "cam0"]).stdout
        // Written by the console here, by the recorder (what it sent) through it.
        let said = through == "files" ? "reason \"PV 9\"  (read (outside any requisition))" : "reason \"PV 9\"  (sent (outside any requisition, "
        #expect(audit.contains("recording.play  camera cam0  footage") && audit.contains(said), "\(audit)")
    }

    @Test func aBrokenLayoutIsRefusedWithItsPlace() throws {
        let vigie = try #require(WallConsoleTests.vigie, "build vigie first")
        let folder = TestPaths.temporaryFolder("wall-bad")
        let layout = folder.appendingPathComponent("wall.yaml")
        try "wall:\n  cameras: \(TestPaths.repository.appendingPathComponent("Layouts/tours.yaml").path)\n  grid: 4x4\npages:\n  - name: X\n    cameras: [gare-*, nowhere]\n"
            .write(to: layout, atomically: true, encoding: .utf8)
        let result = try runProgram(vigie, ["layout", "check", layout.path])
        #expect(result.status == 65)
        #expect(result.stderr.contains("\(layout.path):6:23: error: `nowhere` matches no camera"))
    }
}
