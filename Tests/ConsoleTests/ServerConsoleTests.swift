import Foundation
import TestSupport
import Testing

/// Consoles as the recorder's clients, in real terminals (tmux): three consoles as three
/// accounts on one recorder, through its Unix socket and over TLS, all showing pictures,
/// while the real RTSP server sees one session per camera stream (each camera's main and sub
/// streams recorded, the sub one relayed to the tiles); an operator limited to one
/// camera sees only it; what the consoles do is audited by the recorder under each account.
@Suite(.serialized) struct ServerConsoleTests {
    @Test func threeConsolesAsThreeAccountsShareOneCameraSessionEach() throws {
        let vigie = try #require(WallConsoleTests.vigie, "build vigie first")
        // Two cameras, each a main stream and a sub stream (a server each, to count sessions per stream).
        let fixture = try RTSPFixture(cameras: 4, basePort: RTSPFixture.randomBasePort())
        defer { fixture.stopAll() }
        let folder = TestPaths.temporaryFolder("consoles")
        let site = folder.appendingPathComponent("site.yaml"), storage = folder.appendingPathComponent("storage")
        var yaml = "site:\n  name: Test\n  timezone: Europe/Paris\ncameras:\n"
        for index in 0..<2 {
            yaml += "  - id: cam\(index)\n    name: Caméra \(index)\n    location: Loopback\n    main: \(fixture.urls[2 * index])\n    sub: \(fixture.urls[2 * index + 1])\n"
        }
        try yaml.write(to: site, atomically: true, encoding: .utf8)
        let common = ["--site", site.path, "--storage", storage.path]
        for (name, role, extra, password) in [
            ("chef", "supervisor", [String](), "correct horse battery"), ("agent", "operator", ["--cameras", "cam0"], "agent password 1"),
            ("tech", "technician", [], "technician pass 2"),
        ] {
            let added = try runProgram(vigie, ["accounts", "add", name, "--role", role] + extra + common, input: password + "\n")
            #expect(added.status == 0, "\(added.stderr)")
        }
        let log = folder.appendingPathComponent("record.log").path
        let recorder = try ChildProcess(vigie, ["record"] + common + ["--segment-seconds", "4", "--duration", "120", "--listen", "127.0.0.1:0"], stderr: log)
        defer {
            recorder.kill(SIGTERM)
            _ = recorder.wait()
        }
        var line: Substring = ""
        #expect(eventually(timeout: 30, every: 0.2) {
            line = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").first { $0.contains("over TLS 1.3; certificate") } ?? ""
            return !line.isEmpty
        })
        let words = line.split(separator: " ")
        let server = String(try #require(words.first { $0.hasPrefix("127.0.0.1:") }))
        let fingerprint = String(try #require(words.last).dropLast())
        let config = folder.appendingPathComponent("config").path
        for (name, password) in [("agent", "agent password 1"), ("tech", "technician pass 2")] {
            let login = try runProgram(
                vigie, ["login", "--server", server, "--user", name, "--fingerprint", fingerprint], environment: ["XDG_CONFIG_HOME": config + "-" + name],
                input: password + "\n")
            #expect(login.status == 0, "\(login.stderr)")
        }
        let socket = storage.appendingPathComponent("recorder.sock").path
        let state = folder.appendingPathComponent("state").path
        // chef on the socket (root is mapped to it); agent and tech over TLS.
        let consoles = [
            try WallConsoleTests.Session(command: "VIGIE_STATE=\(state)-chef \(vigie) wall --server \(socket) --colors truecolor"),
            try WallConsoleTests.Session(command: "XDG_CONFIG_HOME=\(config)-agent VIGIE_STATE=\(state)-agent \(vigie) wall --server \(server) --colors truecolor"),
            try WallConsoleTests.Session(command: "XDG_CONFIG_HOME=\(config)-tech VIGIE_STATE=\(state)-tech \(vigie) wall --server \(server) --colors truecolor"),
        ]
        for (index, console) in consoles.enumerated() {
            #expect(eventually(timeout: 40) { console.screen(colours: true).components(separatedBy: "48;2;").count > 30 }, "console \(index): \(console.screen())")
        }
        #expect(consoles[0].statusLine.contains("op: chef") && consoles[1].statusLine.contains("op: agent") && consoles[2].statusLine.contains("op: tech"))
        // The operator limited to cam0 is shown only cam0; the others both cameras.
        #expect(consoles[1].screen().contains("Caméra 0") && !consoles[1].screen().contains("Caméra 1"), "\(consoles[1].screen())")
        #expect(consoles[0].screen().contains("Caméra 0") && consoles[0].screen().contains("Caméra 1"))
        // One RTSP session per camera stream at the camera server, however many consoles show it:
        // the recorder's, recording both streams and relaying the sub streams to the tiles.
        #expect(eventually(timeout: 20, every: 0.5) {
            let subs = try? runProgram("/usr/bin/sqlite3", [storage.appendingPathComponent("catalog.sqlite").path, "SELECT COUNT(DISTINCT camera) FROM segments WHERE stream = 'sub'"])
            return subs?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2"
        })
        for url in fixture.urls {
            let port = try #require(url.split(separator: ":").last?.split(separator: "/").first)
            let sessions = try runProgram("/usr/bin/ss", ["-Htn", "state", "established", "( sport = :\(port) )"]).stdout
                .split(separator: "\n").filter { !$0.isEmpty }
            #expect(sessions.count == 1, "\(url): \(sessions)")
        }
        // An operator's playback key: refused on its screen, and audited.
        consoles[1].keys("Enter")
        #expect(eventually(timeout: 10) { consoles[1].statusLine.contains("ISOLATED 1 Caméra 0") })
        consoles[1].keys("[")
        #expect(eventually(timeout: 10) { consoles[1].statusLine.contains("refused") }, "\(consoles[1].statusLine)")
        // A technician's: the recordings through the recorder, under the pane with their timeline
        // (once 10 s back is inside recorded footage).
        let catalog = storage.appendingPathComponent("catalog.sqlite").path
        #expect(eventually(timeout: 40, every: 1) {
            let span = (try? runProgram("/usr/bin/sqlite3", [catalog, "SELECT (MAX(end_us) - MIN(start_us)) / 1000000 FROM segments WHERE camera = 'cam0' AND state = 'closed'"]))?.stdout
            return Int(span?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0 >= 20
        })
        consoles[2].keys("Enter")
        #expect(eventually(timeout: 10) { consoles[2].statusLine.contains("ISOLATED") })
        // No requisition covers it yet, and no reason was given: refused by the recorder.
        consoles[2].keys("[")
        #expect(eventually(timeout: 15) { consoles[2].statusLine.contains("no open requisition covers camera cam0") }, "\(consoles[2].statusLine)")
        // The supervisor enters a requisition (on the socket, as chef); the technician names it (R) and rewinds.
        let now = Date()
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "Europe/Paris")
        format.dateFormat = "yyyy-MM-dd HH:mm:ss"
        func local(_ date: Date) -> String { format.string(from: date) }
        let entered = try runProgram(
            vigie, ["requisition", "add", "--number", "PV 31", "--authority", "OPJ Leroy", "--basis", "60-1", "--cameras", "cam0",
                    "--from", local(now.addingTimeInterval(-120)), "--to", local(now.addingTimeInterval(120))] + common)
        #expect(entered.status == 0, "\(entered)")
        // Naming it plays the refused playback again under it, with no other key.
        consoles[2].keys("R", "P", "V", "Space", "3", "1", "Enter")
        #expect(eventually(timeout: 15) {
            let screen = consoles[2].screen()
            return consoles[2].statusLine.contains("PLAYBACK") && screen.hasPrefix("PLAYBACK ") && !screen.contains("ERROR")
        }, "\(consoles[2].screen())")
        #expect(eventually(timeout: 10) { consoles[2].screen().contains("━┃") || consoles[2].screen().contains("┃━") }, "\(consoles[2].screen())")
        for console in consoles { console.keys("q", "y") }
        for console in consoles { #expect(eventually(timeout: 15) { console.screen().contains("EXIT=0") }, "\(console.screen())") }
        let audit = ((try? runProgram("/usr/bin/sqlite3", [storage.appendingPathComponent("catalog.sqlite").path, "SELECT who || ' ' || action || ' ' || IFNULL(camera, '') || IFNULL(' ' || requisition, '') FROM audit"]))?.stdout) ?? ""
        for expected in ["chef console.start", "agent console.start", "tech console.start", "agent camera.isolate cam0", "agent access.refuse cam0", "agent console.stop", "tech recording.play cam0 PV 31", "chef requisition.add cam0 PV 31"] {
            #expect(audit.contains(expected), "\(expected) in:\n\(audit)")
        }
    }
}

/// A console under a recorder that goes away and comes back, and under a session that is
/// revoked: the first waits and resumes by itself, the second is cut within seconds.
@Suite(.serialized) struct ServerConsoleLifeTests {
    @Test func aRestartedRecorderIsRejoinedAndARevokedSessionIsCut() throws {
        let vigie = try #require(WallConsoleTests.vigie, "build vigie first")
        let fixture = try RTSPFixture(cameras: 1, basePort: RTSPFixture.randomBasePort())
        defer { fixture.stopAll() }
        let folder = TestPaths.temporaryFolder("console-life")
        let site = folder.appendingPathComponent("site.yaml"), storage = folder.appendingPathComponent("storage")
        try "site:\n  name: Test\n  timezone: Europe/Paris\ncameras:\n  - id: cam0\n    name: Quai\n    location: Loopback\n    main: \(fixture.urls[0])\n"
            .write(to: site, atomically: true, encoding: .utf8)
        let common = ["--site", site.path, "--storage", storage.path]
        for (name, role, password) in [("chef", "supervisor", "correct horse battery"), ("agent", "operator", "agent password 1")] {
            #expect(try runProgram(vigie, ["accounts", "add", name, "--role", role] + common, input: password + "\n").status == 0)
        }
        // First on a port the kernel picks, then restarted on the same one.
        var port = 0
        let log = folder.appendingPathComponent("record.log").path
        var fingerprint = ""
        func startRecorder() throws -> ChildProcess {
            let process = try ChildProcess(vigie, ["record"] + common + ["--segment-seconds", "4", "--duration", "120", "--listen", "127.0.0.1:\(port)"], stderr: log)
            var line: Substring? = nil
            #expect(eventually(timeout: 30, every: 0.2) {
                line = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").first { $0.contains("over TLS 1.3; certificate") }
                return line != nil
            })
            let words = try #require(line).split(separator: " ")
            let address = try #require(words.first { $0.hasPrefix("127.0.0.1:") })
            port = try #require(Int(address.split(separator: ":")[1]))
            fingerprint = String(try #require(words.last).dropLast())
            return process
        }
        var recorder = try startRecorder()
        defer {
            recorder.kill(SIGTERM)
            _ = recorder.wait()
        }
        let config = folder.appendingPathComponent("config").path, state = folder.appendingPathComponent("state").path
        let server = "127.0.0.1:\(port)"
        #expect(try runProgram(vigie, ["login", "--server", server, "--user", "agent", "--fingerprint", fingerprint], environment: ["XDG_CONFIG_HOME": config], input: "agent password 1\n").status == 0)
        let console = try WallConsoleTests.Session(command: "XDG_CONFIG_HOME=\(config) VIGIE_STATE=\(state) \(vigie) wall --server \(server) --colors truecolor")
        func pictures() -> Bool { console.screen(colours: true).components(separatedBy: "48;2;").count > 30 }
        #expect(eventually(timeout: 30) { pictures() }, "\(console.screen())")

        // The recorder stops: the console says so and waits; restarted, it is rejoined (same session).
        recorder.kill(SIGTERM)
        _ = recorder.wait()
        try? FileManager.default.removeItem(atPath: log)
        #expect(eventually(timeout: 20) { console.screen().contains("NO SIGNAL") }, "\(console.screen())")
        recorder = try startRecorder()
        #expect(eventually(timeout: 40) { !console.screen().contains("NO SIGNAL") && pictures() }, "\(console.screen())")
        #expect(console.statusLine.contains("op: agent"))

        // Its session revoked (by the supervisor, here as the Unix user mapped to chef): cut within seconds.
        let revoked = try runProgram(vigie, ["accounts", "revoke", "agent"] + common)
        #expect(revoked.status == 0 && revoked.stdout.contains("1 session(s) of agent revoked"), "\(revoked)")
        #expect(eventually(timeout: 10) { console.screen().contains("EXIT=77") }, "\(console.screen())")
        #expect(console.screen().contains("disconnected by the recorder"), "\(console.screen())")
    }
}
