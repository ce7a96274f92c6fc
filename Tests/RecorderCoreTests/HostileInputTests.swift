import Foundation
import Media
import RecorderCore
import TestSupport
import Testing

/// Hostile text, credentials and streams: control characters in what a file, the catalog
/// or a camera's server says never reach a terminal raw; no secret shows anywhere; a
/// hostile server or file cannot make a command run long or take much memory.
@Suite(.serialized) struct HostileInputTests {
    static let escape = "\u{1B}]0;pwned\u{07}\u{1B}[2J"

    @Test(arguments: [
        ("    name: \"Rue\\e]0;pwned\\a\"\n", "f.yaml:5:11: error: `name` in camera a contains a control character (<U+001B> ESC) at character 4: remove it"),
        ("    name: A\n    location: \"Place\\rdu marché\"\n", "f.yaml:6:15: error: `location` in camera a contains a control character (<U+000D> CR) at character 6: remove it"),
        ("    name: A\n    notes: \"ok\\nsur deux lignes \\u009b31m\"\n", "f.yaml:6:12: error: `notes` in camera a contains a C1 control character (<U+009B> CSI) at character 20: remove it"),
        ("    name: \"Rue \\u202Eeiluj\"\n", "f.yaml:5:11: error: `name` in camera a contains an invisible direction override (<U+202E>) at character 5: remove it"),
    ])
    func controlCharactersInASiteFileAreRefusedWithTheirPlace(camera: String, expected: String) {
        var yaml = "site:\n  name: X\ncameras:\n  - id: a\n"
        yaml += camera
        if !camera.contains("location:") { yaml += "    location: L\n" }
        yaml += "    main: sim://a/main\n"
        #expect {
            _ = try CameraInventory.parse(yaml: yaml, file: "f.yaml")
        } throws: { error in
            (error as? ConfigurationError)?.diagnostics.contains { $0.description == expected } == true
        }
    }

    @Test func lineBreaksStayAllowedInNotesAndEverythingPrintedIsEscaped() throws {
        let yaml = "site:\n  name: X\ncameras:\n  - id: a\n    name: A\n    location: L\n    main: sim://a/main\n    notes: |\n      mât au nord\n      zoom fixe\n"
        let inventory = try CameraInventory.parse(yaml: yaml, file: "f.yaml")
        #expect(inventory.cameras[0].notes == "mât au nord\nzoom fixe")
        #expect(TerminalText.escaped("a\u{1B}[2Jb\rc\u{9B}d\u{7F}") == "a^[[2Jb^Mc<U+009B>d^?")
        #expect(TerminalText.escaped("Rue de la Paix — 12") == "Rue de la Paix — 12")
        #expect(TerminalText.inCells("a\rb\u{1B}c") == "a\u{FFFD}b\u{FFFD}c")
    }

    @Test func hostileTextFromFilesTheCatalogAndCamerasReachesNoTerminalRaw() throws {
        let folder = TestPaths.temporaryFolder("hostile-text")
        // A site and a layout with escapes: refused with their place, the message itself escaped.
        let site = folder.appendingPathComponent("bad.yaml")
        try "site:\n  name: X\ncameras:\n  - id: a\n    name: \"A\\e]0;pwned\\a\"\n    location: L\n    main: sim://a/main\n    \"\\e[2J\": 1\n"
            .write(to: site, atomically: true, encoding: .utf8)
        let check = try TestSites.vigie(["cameras", "check", site.path])
        #expect(check.status == 65)
        #expect(check.stderr.contains("bad.yaml:5:11: error: `name` in camera a contains a control character"), "\(check.stderr)")
        #expect(check.stderr.contains("unknown key `^[[2J`"), "\(check.stderr)")
        #expect(!hasRawControls(check.stdout + check.stderr))
        let good = try TestSites.simulated(["a", "b"], in: folder)
        let layout = folder.appendingPathComponent("wall.yaml")
        try "wall:\n  name: Mur\n  cameras: site.yaml\npages:\n  - name: \"Nord\\r\\e[1A\"\n    cameras: [a]\n".write(to: layout, atomically: true, encoding: .utf8)
        let layoutCheck = try TestSites.vigie(["layout", "check", layout.path])
        #expect(layoutCheck.status == 65 && layoutCheck.stderr.contains("wall.yaml:5:11: error: `name` in a page contains a control character"), "\(layoutCheck.stderr)")
        #expect(!hasRawControls(layoutCheck.stdout + layoutCheck.stderr))

        // Typed on the command line: refused.
        let storage = folder.appendingPathComponent("storage")
        let common = ["--site", good.path, "--storage", storage.path]
        let typed = try TestSites.vigie(["hold", "add", "--reference", "PV\(Self.escape)", "--cameras", "a", "--from", "2026-11-30 10:00:00", "--to", "2026-11-30 11:00:00", "--reason", "x"] + common)
        #expect(typed.status == 64 && typed.stderr.contains("--reference contains a control character"), "\(typed.stderr)")

        // Planted in the catalog by someone with access to the file: escaped when shown.
        #expect(try TestSites.vigie(["hold", "add", "--reference", "PV-1", "--cameras", "a", "--from", "2026-11-30 10:00:00", "--to", "2026-11-30 11:00:00", "--reason", "vol"] + common).status == 0)
        let catalog = storage.appendingPathComponent("catalog.sqlite").path
        _ = sqlite(catalog, "UPDATE holds SET reference = 'PV' || char(27) || '[2J' || char(13) || 'FAUX', reason = 'x' || char(27) || ']0;pwned' || char(7)")
        _ = sqlite(catalog, "UPDATE audit SET detail = 'hold' || char(27) || '[1A' || char(13) || 'entry 99 forged', reason = char(155) || '31m'")
        for command in [["hold", "list", "--all"], ["audit", "show"]] {
            let result = try TestSites.vigie(command + common)
            #expect(result.status == 0)
            #expect(!hasRawControls(result.stdout + result.stderr), "\(command) printed a control character raw")
            #expect(result.stdout.contains("^["), "\(command): \(result.stdout)")
        }

        // What a camera's server says (reason phrases, SDP fields with escapes): escaped.
        let server = try HostileRTSPServer(["--mode", "escapes", "--status", "404"])
        let probe = try TestSites.vigie(["probe", server.url, "--timeout", "3", "--duration", "1", "--log-level", "debug"])
        #expect(probe.status == 69)
        #expect(!hasRawControls(probe.stdout + probe.stderr), "\(probe.stderr)")
        #expect(probe.stderr.contains("^["), "\(probe.stderr)")
        let hostileSite = try TestSites.addresses([server.url], in: TestPaths.temporaryFolder("hostile-monitor"))
        let monitor = try TestSites.vigie(["monitor", "--plain", "--site", hostileSite.path, "--stream", "main", "--duration", "4", "--log-level", "debug"])
        #expect(monitor.status == 0)
        #expect(!hasRawControls(monitor.stdout + monitor.stderr), "\(monitor.stdout) \(monitor.stderr)")
        let served = try HostileRTSPServer(["--mode", "escapes", "--status", "200"])
        let answered = try TestSites.vigie(["probe", served.url, "--timeout", "3", "--duration", "1", "--log-level", "trace"])
        #expect(!hasRawControls(answered.stdout + answered.stderr))
    }

    @Test func noSecretShowsInListsErrorsOrTraceLogs() throws {
        let password = "p@ssW0rdAt"
        let server = try HostileRTSPServer(["--mode", "auth", "--user", "admin", "--password", password])
        let folder = TestPaths.temporaryFolder("secrets")
        let site = try TestSites.addresses(
            [server.url(user: "admin", password: password), "http://10.0.0.7/video.cgi?user=admin&password=hunter2&channel=1"], in: folder)
        let secrets = [password, "ssW0rdAt", "hunter2", Data("admin:\(password)".utf8).base64EncodedString()]
        func leaks(_ text: String) -> [String] { secrets.filter { text.contains($0) } }

        let list = try TestSites.vigie(["cameras", "list", site.path, "--verbose"])
        #expect(list.status == 0 && list.stdout.contains("rtsp://***@127.0.0.1") && list.stdout.contains("password=***"), "\(list.stdout)")
        #expect(leaks(list.stdout + list.stderr).isEmpty)
        // The server asks for the password: FFmpeg sends it, and logs its request at trace level.
        let probe = try TestSites.vigie(["probe", "cam0", "--site", site.path, "--timeout", "3", "--duration", "1", "--log-level", "trace"])
        #expect(probe.stderr.contains("Authorization: ***"), "the trace shows the header, masked")
        #expect(leaks(probe.stdout + probe.stderr).isEmpty, "\(leaks(probe.stdout + probe.stderr))")
        let record = try TestSites.vigie(["record", "--site", site.path, "--storage", folder.appendingPathComponent("storage").path, "--cameras", "cam0", "--duration", "4", "--log-level", "trace"])
        #expect(leaks(record.stdout + record.stderr).isEmpty)
        #expect(leaks(try TestSites.vigie(["probe", server.url(user: "admin", password: "wrong\(password)"), "--timeout", "3"]).stderr).isEmpty)
        // A blank in the address: the error shows no part of the password.
        let blank = folder.appendingPathComponent("blank.yaml")
        try "site:\n  name: X\ncameras:\n  - id: a\n    name: A\n    location: L\n    main: \"rtsp://admin:pass word\(password)@10.0.0.5/live\"\n".write(to: blank, atomically: true, encoding: .utf8)
        let check = try TestSites.vigie(["cameras", "check", blank.path])
        #expect(check.status == 65 && check.stderr.contains("`rtsp://***@10.0.0.5/live` contains a blank"), "\(check.stderr)")
        #expect(leaks(check.stderr).isEmpty && !check.stderr.contains("word"))
    }

    @Test func aServerAnnouncingThousandsOfTracksCostsItsTimeoutAndLittleMemory() throws {
        let server = try HostileRTSPServer(["--mode", "many-tracks", "--tracks", "5000"])
        let started = Date()
        let probe = try ChildProcess(try TestSites.program, ["probe", server.url, "--timeout", "4", "--duration", "1"])
        #expect(probe.wait() == 69)
        let seconds = Date().timeIntervalSince(started)
        #expect(seconds < 4 + 1 + 3, "probe took \(seconds) s")
        // Bounded, not growing with the tracks (5000 of them at 100 kB each would be 500 MB):
        // 78 MB measured alone, up to 204 MB under the whole suite's load on 2 cores.
        #expect(probe.maximumResidentKilobytes < 256_000, "probe peaked at \(probe.maximumResidentKilobytes) kB")
        // Recording that camera: bounded too, and it stops when asked.
        let folder = TestPaths.temporaryFolder("many-tracks")
        let site = try TestSites.addresses([server.url], in: folder)
        let record = try ChildProcess(try TestSites.program, ["record", "--site", site.path, "--storage", folder.appendingPathComponent("storage").path, "--duration", "12"])
        #expect(record.wait() == 0)
        #expect(record.maximumResidentKilobytes < 300_000, "record peaked at \(record.maximumResidentKilobytes) kB")
    }

    @Test func configurationFilesAndFileSourcesHaveBoundsAndClearErrors() throws {
        let folder = TestPaths.temporaryFolder("bounds")
        // A file over 4 MiB is refused before it is read.
        let huge = folder.appendingPathComponent("huge.yaml")
        try ("site:\n  name: X\ncameras:\n  - id: a\n    name: A\n    location: L\n    main: sim://a/main\n    notes: " + String(repeating: "x", count: 5 << 20) + "\n")
            .write(to: huge, atomically: true, encoding: .utf8)
        let started = Date()
        let tooBig = try TestSites.vigie(["cameras", "check", huge.path])
        #expect(tooBig.status == 65 && tooBig.stderr.contains("huge.yaml:1:1: error: the file is 5242") && tooBig.stderr.contains("at most 4 MiB"), "\(tooBig.stderr)")
        #expect(Date().timeIntervalSince(started) < 5)
        // Too many cameras, too long a field, an id of digits only.
        var many = "site:\n  name: X\ncameras:\n"
        for index in 0...CameraInventory.maximumCameras { many += "  - {id: c\(index), name: C, location: L, main: sim://c\(index)/main}\n" }
        #expect {
            _ = try CameraInventory.parse(yaml: many, file: "many.yaml")
        } throws: { error in
            (error as? ConfigurationError)?.diagnostics.contains { $0.description.hasPrefix("many.yaml:10004:5: error: more than 10000 cameras") } == true
        }
        let digits = "site:\n  name: X\ncameras:\n  - id: \"1\"\n    name: A\n    location: L\n    main: sim://a/main\n"
        #expect {
            _ = try CameraInventory.parse(yaml: digits, file: "d.yaml")
        } throws: { error in
            (error as? ConfigurationError)?.diagnostics.contains { $0.description.contains("d.yaml:4:9: error: camera id `1` has digits only") } == true
        }
        let long = "site:\n  name: X\ncameras:\n  - id: a\n    name: \(String(repeating: "n", count: 300))\n    location: L\n    main: sim://a/main\n"
        #expect {
            _ = try CameraInventory.parse(yaml: long, file: "l.yaml")
        } throws: { error in
            (error as? ConfigurationError)?.diagnostics.contains { $0.description == "l.yaml:5:11: error: `name` in camera a is 300 characters long; at most 256" } == true
        }
        // Anchors and aliases (a small file standing for an enormous one): refused, and fast.
        var laughs = "site:\n  name: X\nx0: &a0 [sim, sim, sim, sim, sim, sim, sim, sim, sim, sim]\n"
        for level in 1...9 { laughs += "x\(level): &a\(level) [\((0..<10).map { _ in "*a\(level - 1)" }.joined(separator: ", "))]\n" }
        laughs += "cameras:\n  - id: a\n    name: A\n    location: L\n    main: sim://a/main\n    neighbours: *a9\n"
        let aliasStart = Date()
        #expect {
            _ = try CameraInventory.parse(yaml: laughs, file: "laughs.yaml")
        } throws: { error in
            (error as? ConfigurationError)?.diagnostics.contains { $0.description.contains("anchors and aliases (&name, *name) are not accepted") } == true
        }
        #expect(Date().timeIntervalSince(aliasStart) < 2)
        // A file that is not video, and one that is not there.
        let corrupt = folder.appendingPathComponent("corrupt.mp4")
        try Data((0..<50_000).map { _ in UInt8.random(in: 0...255) }).write(to: corrupt)
        #expect(try TestSites.vigie(["probe", corrupt.path]).status == 65)
        let clip = try Clips.make("bounds-clip", seconds: 2, extension: "mp4")
        let truncated = folder.appendingPathComponent("truncated.mp4")
        try Data(try Data(contentsOf: clip).prefix(20_000)).write(to: truncated)
        #expect(try TestSites.vigie(["probe", truncated.path]).status == 65)
        #expect(try TestSites.vigie(["probe", folder.appendingPathComponent("missing.mp4").path]).status == 66)
    }
}
