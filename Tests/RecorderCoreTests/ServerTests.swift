import Foundation
import RecorderCore
import TestSupport
import Testing

/// The recorder as the site's server, driven by an off-the-shelf client (curl) on its Unix
/// socket and on TLS 1.3 on loopback, and by vigie's own commands: what docs/protocol.yaml
/// says, each role's limits, logins throttled and audited, revoked sessions cut, hostile
/// clients dropped while the others are served, and a restart rejoined.
@Suite(.serialized) struct ServerTests {
    /// A running `vigie record --listen 127.0.0.1:0` and what it printed.
    struct RunningRecorder {
        let process: ChildProcess
        let port: Int
        let fingerprint: String
        let storage: URL
        var socket: String { storage.appendingPathComponent("recorder.sock").path }
        var certificate: String { storage.appendingPathComponent("tls/certificate.pem").path }
        var base: String { "https://127.0.0.1:\(port)" }
    }

    static func start(_ common: [String], storage: URL, log: String, port: Int = 0) throws -> RunningRecorder {
        let process = try TestSites.start(["record"] + common + ["--segment-seconds", "3", "--duration", "90", "--listen", "127.0.0.1:\(port)"], log: log)
        var found: (Int, String)? = nil
        _ = eventually(timeout: 30, every: 0.2) {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            guard let line = text.split(separator: "\n").first(where: { $0.contains("over TLS 1.3; certificate") }),
                let address = line.split(separator: " ").first(where: { $0.hasPrefix("127.0.0.1:") }),
                let port = Int(address.split(separator: ":")[1]),
                let fingerprint = line.split(separator: " ").last
            else { return false }
            found = (port, String(fingerprint.dropLast()))
            return true
        }
        let (port, fingerprint) = try #require(found, "the recorder did not say where it listens: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        return RunningRecorder(process: process, port: port, fingerprint: fingerprint, storage: storage)
    }

    /// curl's answer: HTTP status (0 when no answer) and body.
    @discardableResult
    static func curl(_ arguments: [String]) throws -> (status: Int, body: String) {
        let result = try runProgram("/usr/bin/curl", ["-s", "--max-time", "20", "-w", "\n%{http_code}"] + arguments)
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let status = Int(lines.popLast() ?? "") ?? 0
        return (status, lines.joined(separator: "\n"))
    }

    @Test func theRecorderServesItsSocketAndTLSToNamedAccountsEachInItsRole() throws {
        let folder = TestPaths.temporaryFolder("server")
        let site = try TestSites.simulated(["a", "b"], in: folder)
        let storage = folder.appendingPathComponent("storage")
        let common = ["--site", site.path, "--storage", storage.path]
        #expect(try TestSites.vigie(["accounts", "add", "chef", "--role", "supervisor"] + common, input: "correct horse battery\n").status == 0)
        #expect(try TestSites.vigie(["accounts", "add", "agent", "--role", "operator", "--cameras", "a"] + common, input: "agent password 1\n").status == 0)
        #expect(try TestSites.vigie(["accounts", "add", "tech", "--role", "technician"] + common, input: "technician pass 2\n").status == 0)
        let recorder = try Self.start(common, storage: storage, log: folder.appendingPathComponent("record.log").path)
        defer {
            recorder.process.kill(SIGTERM)
            _ = recorder.process.wait()
        }
        #expect(recorder.fingerprint.hasPrefix("SHA256:") && recorder.fingerprint.count == 71, "\(recorder.fingerprint)")
        let tls = ["--cacert", recorder.certificate]

        // The Unix socket: the peer's Unix user (root, mapped to chef) from the kernel.
        let session = try Self.curl(["--unix-socket", recorder.socket, "http://vigie/v1/session"])
        #expect(session.status == 200 && session.body.contains("\"account\":\"chef\"") && session.body.contains("\"timeZone\":\"Europe\\/Paris\""), "\(session)")
        #expect(eventually(timeout: 10, every: 0.5) {
            let metrics = try? Self.curl(["--unix-socket", recorder.socket, "http://vigie/metrics"])
            return metrics?.status == 200 && metrics?.body.contains("vigie_storage_bytes") == true
        })
        #expect(try Self.curl(["--unix-socket", recorder.socket, "http://vigie/v1/nowhere"]).status == 404)
        // Every path the protocol document lists exists (answered, even if not with GET).
        let document = try String(contentsOf: TestPaths.repository.appendingPathComponent("docs/protocol.yaml"), encoding: .utf8)
        let paths = document.split(separator: "\n").filter { $0.hasPrefix("  /") && $0.hasSuffix(":") }.map { String($0.dropFirst(2).dropLast()) }
        #expect(paths.count >= 11, "\(paths)")
        for path in paths {
            let concrete = path.replacingOccurrences(of: "{camera}", with: "a").replacingOccurrences(of: "{id}", with: "1").replacingOccurrences(of: "{stream}", with: "sub")
            let answer = try Self.curl(["--unix-socket", recorder.socket, "http://vigie\(concrete)"])
            #expect([200, 400, 403, 404, 405, 426].contains(answer.status) && !answer.body.contains("no such resource"), "\(path): \(answer)")
        }

        // TLS 1.3 only, with the certificate the recorder made (checked against it as a CA, for 127.0.0.1).
        #expect(try Self.curl(tls + ["--tls-max", "1.2", "\(recorder.base)/v1/session"]).status == 0)
        let anonymous = try Self.curl(tls + ["\(recorder.base)/v1/session"])
        #expect(anonymous.status == 401 && anonymous.body.contains("log in first"), "\(anonymous)")
        func login(_ account: String, _ password: String) throws -> (status: Int, body: String) {
            try Self.curl(tls + ["-H", "Content-Type: application/json", "-d", "{\"account\":\"\(account)\",\"password\":\"\(password)\"}", "\(recorder.base)/v1/login"])
        }
        func token(_ body: String) throws -> String {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            return try #require(object["token"] as? String)
        }
        let agentToken = try token(try login("agent", "agent password 1").body)
        let asAgent = tls + ["-H", "Authorization: Bearer \(agentToken)"]
        let cameras = try Self.curl(asAgent + ["\(recorder.base)/v1/cameras"])
        #expect(cameras.status == 200 && cameras.body.contains("\"id\":\"a\",\"live\":true") && cameras.body.contains("\"id\":\"b\",\"live\":false"), "\(cameras)")
        #expect(!cameras.body.contains("sim:"), "camera addresses never leave the recorder")
        // An operator's playback is refused, and audited.
        let timeline = try Self.curl(asAgent + ["\(recorder.base)/v1/recordings/a"])
        #expect(timeline.status == 403 && timeline.body.contains("may not play recordings back"), "\(timeline)")
        #expect(try Self.curl(asAgent + ["\(recorder.base)/v1/holds"]).status == 403)
        let techToken = try token(try login("tech", "technician pass 2").body)
        let asTech = tls + ["-H", "Authorization: Bearer \(techToken)"]
        #expect(eventually(timeout: 20, every: 0.5) { ((try? Self.curl(asTech + ["\(recorder.base)/v1/recordings/a"]).body) ?? "").contains("\"segments\":[{") })
        let held = try Self.curl(
            asTech + ["-H", "Content-Type: application/json", "-d", "{\"reference\":\"PV-12\",\"cameras\":[\"a\"],\"from\":\"2026-11-30T09:00:00Z\",\"to\":\"2026-11-30T10:00:00Z\",\"reason\":\"vol\"}", "\(recorder.base)/v1/holds"])
        #expect(held.status == 201 && held.body.contains("\"createdBy\":\"tech\""), "\(held)")

        // A wrong password: refused, then throttled (Retry-After), every try audited; the right one still waits.
        #expect(try login("tech", "wrong").status == 401)
        #expect(try login("tech", "wrong").status == 401)
        #expect(try login("tech", "wrong").status == 401)
        let throttled = try Self.curl(tls + ["-i", "-d", "{\"account\":\"tech\",\"password\":\"technician pass 2\"}", "\(recorder.base)/v1/login"])
        #expect(throttled.status == 429 && throttled.body.lowercased().contains("retry-after:"), "\(throttled)")
        let counted = try Self.curl(["--unix-socket", recorder.socket, "http://vigie/metrics"]).body
        #expect(counted.contains("vigie_logins_total{result=\"failed\"} 3") && counted.contains("vigie_logins_total{result=\"throttled\"} 1"), "\(counted)")

        // vigie's own client: login with the pinned fingerprint, a wrong fingerprint refused.
        let config = folder.appendingPathComponent("config").path
        func vigie(_ arguments: [String], input: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
            try runProgram(try TestSites.program, arguments, environment: ["XDG_CONFIG_HOME": config, "VIGIE_CACHE": TestSites.cache], input: input)
        }
        let server = "127.0.0.1:\(recorder.port)"
        // The address's own throttle from the failures above: wait what the recorder said.
        let retryAfter = throttled.body.split(separator: "\n").first { $0.lowercased().hasPrefix("retry-after:") }
            .flatMap { Double($0.split(separator: ":")[1].trimmingCharacters(in: .whitespacesAndNewlines)) } ?? LoginThrottle.firstWait
        Thread.sleep(forTimeInterval: retryAfter + 0.5)
        let wrongPin = try vigie(["login", "--server", server, "--user", "chef", "--fingerprint", "SHA256:" + String(repeating: "0", count: 64)], input: "correct horse battery\n")
        #expect(wrongPin.status == 69 && wrongPin.stderr.contains("did not present the certificate pinned"), "\(wrongPin.stderr)")
        let chefLogin = try vigie(["login", "--server", server, "--user", "chef", "--fingerprint", recorder.fingerprint], input: "correct horse battery\n")
        #expect(chefLogin.status == 0 && chefLogin.stdout.contains("logged in to \(server) as chef"), "\(chefLogin)")
        let sessionFile = try #require(try FileManager.default.contentsOfDirectory(atPath: config + "/vigie/sessions").first)
        let mode = (try FileManager.default.attributesOfItem(atPath: config + "/vigie/sessions/" + sessionFile)[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600)
        // Playback through the recorder over TLS: the very pictures the segment files give here.
        let firstSegment = sqlite(storage.appendingPathComponent("catalog.sqlite").path, "SELECT MIN(start_us) FROM segments WHERE camera = 'a'")
        let startMicros = try #require(Int64(firstSegment.trimmingCharacters(in: .whitespacesAndNewlines)))
        let at = Date(timeIntervalSince1970: Double(startMicros) / 1e6 + 0.5).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        let atText = at.replacingOccurrences(of: "T", with: " ")
        let played = try vigie(["play", "a", "--at", atText, "--server", server, "--frames", "40", "--size", "40x12", "--reason", "PV-12"])
        let local = try vigie(["play", "a", "--at", atText, "--frames", "40", "--size", "40x12", "--reason", "PV-12"] + common)
        #expect(played.status == 0 && played.stderr.contains("40 frame(s)"), "\(played.stderr)")
        #expect(played.stdout.count > 2000 && played.stdout == local.stdout, "\(played.stdout.count) bytes through the recorder, \(local.stdout.count) from the files")
        // An operator may not, with or without the upgrade; a technician without it is told to upgrade.
        let upgrade = ["-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
        let playbackURL = "\(recorder.base)/v1/playback/a?at=\(startMicros)&reason=PV-12"
        let agentPlayback = try Self.curl(asAgent + upgrade + [playbackURL])
        #expect(agentPlayback.status == 403, "\(agentPlayback)")
        #expect(try Self.curl(asTech + [playbackURL]).status == 426)
        // At most 8 playbacks at once for one asker (a synchronised wall of 4 while it seeks). Eight
        // whose output nobody reads (so they stop reading the recorder, which then waits) hold
        // their places, a ninth is refused; when
        // their readers go, the places are free again. Enough footage first to outlast the buffers.
        let catalog = storage.appendingPathComponent("catalog.sqlite").path
        #expect(eventually(timeout: 40, every: 1) {
            (Int(sqlite(catalog, "SELECT (MAX(end_us) - MIN(start_us)) / 1000000 FROM segments WHERE camera = 'a' AND state = 'closed'")
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 18
        })
        let stalled = try ChildProcess(
            "/bin/sh",
            ["-c", (0..<8).map { _ in "\(try! TestSites.program) play a --at '\(atText)' --server \(recorder.socket) --frames 100000 --reason PV-12 | sleep 20 &" }.joined(separator: " ") + " wait"])
        let sixth = "http://vigie/v1/playback/a?at=\(startMicros)&reason=PV-12"
        #expect(eventually(timeout: 20, every: 0.3) { ((try? Self.curl(["--unix-socket", recorder.socket, sixth]))?.status ?? 0) == 429 })
        let fifth = try Self.curl(["--unix-socket", recorder.socket, sixth])
        #expect(fifth.status == 429 && fifth.body.contains("at most 8 playbacks"), "\(fifth)")
        _ = stalled.wait()
        #expect(eventually(timeout: 20, every: 0.5) { ((try? Self.curl(["--unix-socket", recorder.socket, sixth]))?.status ?? 0) == 426 })
        let holds = try vigie(["hold", "list", "--server", server])
        #expect(holds.status == 0 && holds.stdout.contains("PV-12") && holds.stdout.contains("by tech"), "\(holds)")

        // An export through the recorder over TLS: made in its storage, copied here 8 MiB at a time, checked.
        let exportFrom = Date(timeIntervalSince1970: Double(startMicros) / 1e6 + 0.5)
        func text(_ date: Date) -> String {
            date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)).replacingOccurrences(of: "T", with: " ")
        }
        let entered = try vigie(
            ["requisition", "add", "--server", server, "--number", "PV-88", "--authority", "OPJ", "--basis", "99-3", "--cameras", "a",
             "--from", text(exportFrom), "--to", text(exportFrom.addingTimeInterval(6))])
        #expect(entered.status == 0, "\(entered)")
        let copied = folder.appendingPathComponent("copied-export")
        let exported = try vigie(["export", "--server", server, "--requisition", "PV-88", "--recipient", "OPJ", "--medium", "lien", "--output", copied.path])
        #expect(exported.status == 0 && exported.stdout.contains("copied into \(copied.path) and checked"), "\(exported)")
        let checked = try vigie(["export", "verify", copied.path])
        #expect(checked.status == 0 && checked.stdout.contains("verified: 1 file(s)"), "\(checked)")
        #expect(FileManager.default.fileExists(atPath: storage.appendingPathComponent("exports").path), "made in the recorder's storage")

        // A revoked session is cut at its next request.
        #expect(try vigie(["accounts", "revoke", "agent", "--server", server]).stdout.contains("1 session(s) of agent revoked"))
        let cut = try Self.curl(asAgent + ["\(recorder.base)/v1/cameras"])
        #expect(cut.status == 401 && cut.body.contains("revoked"), "\(cut)")

        // The audit log: written by the recorder, with the authenticated accounts.
        let audit = sqlite(storage.appendingPathComponent("catalog.sqlite").path, "SELECT who || ' ' || action || ' ' || IFNULL(detail, '') FROM audit ORDER BY sequence")
        for expected in [
            "agent login session", "agent access.refuse play recordings back: account agent (operator) may not play recordings back (from 127.0.0.1:",
            "tech hold.add hold 1 PV-12", "tech login.fail wrong account or password from 127.0.0.1:", "tech login.fail throttled",
            "chef session.revoke 1 session(s) of account agent revoked", "chef recording.play opened (outside any requisition, console at 127.0.0.1:", "chef recording.play sent (outside any requisition, ",
        ] {
            #expect(audit.contains(expected), "\(expected) in:\n\(audit)")
        }
        #expect(!audit.contains("technician pass 2") && !audit.contains("agent password 1"))
    }

    @Test func hostileClientsAreDroppedWhileTheOthersAreServedAndARestartIsRejoined() throws {
        let folder = TestPaths.temporaryFolder("server-hostile")
        let site = try TestSites.simulated(["a"], in: folder)
        let storage = folder.appendingPathComponent("storage")
        let common = ["--site", site.path, "--storage", storage.path]
        #expect(try TestSites.vigie(["accounts", "add", "chef", "--role", "supervisor"] + common, input: "correct horse battery\n").status == 0)
        var recorder = try Self.start(common, storage: storage, log: folder.appendingPathComponent("record.log").path)
        defer {
            recorder.process.kill(SIGTERM)
            _ = recorder.process.wait()
        }
        let local = ["--unix-socket", recorder.socket]

        // Nothing at all, then a request dribbled byte by byte (slowloris): closed by the recorder.
        let quiet = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(quiet) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in recorder.socket.utf8.enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(quiet, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(connected == 0)
        _ = "GET /v1/sess".withCString { send(quiet, $0, 12, 0) }
        let began = Date()
        // Meanwhile the others are served.
        #expect(try Self.curl(local + ["http://vigie/v1/session"]).status == 200)
        var byte: UInt8 = 0
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(quiet, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let read = recv(quiet, &byte, 1, 0)
        let closedAfter = Date().timeIntervalSince(began)
        #expect(read == 0 && closedAfter < 15, "closed after \(closedAfter) s (read \(read))")

        // Garbage: a 400 and the connection closed; an oversized body: 413.
        let garbage = try runProgram(
            "/usr/bin/env",
            ["python3", "-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1]); s.sendall(b'\\x01\\x02 NOT HTTP\\r\\n\\r\\n'); d=s.recv(200); print(d.decode('latin-1')); print('closed' if s.recv(1)==b'' else 'open')", recorder.socket])
        #expect(garbage.stdout.contains("400") && garbage.stdout.contains("closed"), "\(garbage)")
        let big = folder.appendingPathComponent("big.json")
        try Data(repeating: UInt8(ascii: "a"), count: 2 << 20).write(to: big)
        #expect(try Self.curl(local + ["--data-binary", "@\(big.path)", "http://vigie/v1/holds"]).status == 413)
        #expect(try Self.curl(local + ["-d", "{not json", "http://vigie/v1/holds"]).status == 400)
        #expect(try Self.curl(local + ["http://vigie/v1/session"]).status == 200)

        // A restart under a logged-in client: unreachable while down, the same session after.
        let config = folder.appendingPathComponent("config").path
        func vigie(_ arguments: [String], input: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
            try runProgram(try TestSites.program, arguments, environment: ["XDG_CONFIG_HOME": config, "VIGIE_CACHE": TestSites.cache], input: input)
        }
        let server = "127.0.0.1:\(recorder.port)"
        #expect(try vigie(["login", "--server", server, "--user", "chef", "--fingerprint", recorder.fingerprint], input: "correct horse battery\n").status == 0)
        recorder.process.kill(SIGTERM)
        #expect(recorder.process.wait() == 0)
        let down = try vigie(["recorder", "status", "--server", server])
        #expect(down.status == 69 && down.stderr.contains("unreachable"), "\(down.stderr)")
        recorder = try Self.start(common, storage: storage, log: folder.appendingPathComponent("record2.log").path, port: recorder.port)
        // The recorder writes its first status within seconds of starting.
        #expect(eventually(timeout: 20, every: 0.5) { ((try? vigie(["recorder", "status", "--server", server]))?.stdout ?? "").contains("Recorder at \(server)") })
    }
    /// A console that stops reading (a frozen machine, a saturated link) never slows the
    /// camera, the recording or the others: once its connection holds 4 MiB, its packets are
    /// dropped and counted in /metrics, and when it reads again it goes on from a keyframe.
    @Test func aViewerThatFallsBehindSkipsToTheNextKeyframe() throws {
        let folder = TestPaths.temporaryFolder("server-behind")
        let site = try TestSites.simulated(["a"], in: folder)
        let storage = folder.appendingPathComponent("storage")
        let recorder = try Self.start(["--site", site.path, "--storage", storage.path], storage: storage, log: folder.appendingPathComponent("record.log").path)
        defer {
            recorder.process.kill(SIGTERM)
            _ = recorder.process.wait()
        }
        let script = """
            import socket, struct, sys, time
            path = sys.argv[1]
            def metrics():
                m = socket.socket(socket.AF_UNIX); m.settimeout(10); m.connect(path)
                m.sendall(b"GET /metrics HTTP/1.1\\r\\nHost: vigie\\r\\nConnection: close\\r\\n\\r\\n")
                data = b""
                while True:
                    d = m.recv(65536)
                    if not d: break
                    data += d
                m.close()
                return sum(float(l.split()[-1]) for l in data.decode("latin-1").splitlines()
                           if l.startswith("vigie_live_packets_dropped{") and 'stream="main"' in l)
            s = socket.socket(socket.AF_UNIX); s.settimeout(20)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            s.connect(path)
            s.sendall(b"GET /v1/live/a/main HTTP/1.1\\r\\nHost: vigie\\r\\nConnection: Upgrade\\r\\nUpgrade: websocket\\r\\n"
                      b"Sec-WebSocket-Version: 13\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n\\r\\n")
            head = b""
            while not head.endswith(b"\\r\\n\\r\\n"): head += s.recv(1)
            print("upgrade", head.split(b"\\r\\n")[0].decode())
            def recvn(n):
                out = b""
                while len(out) < n:
                    d = s.recv(n - len(out))
                    if not d: raise SystemExit("closed")
                    out += d
                return out
            def frame():
                b0, b1 = recvn(2)
                n = b1 & 0x7f
                if n == 126: n = struct.unpack(">H", recvn(2))[0]
                elif n == 127: n = struct.unpack(">Q", recvn(8))[0]
                return b0 & 0x0f, recvn(n)
            # A first picture, then nothing read until the recorder drops packets for us.
            while frame()[0] != 2: pass
            began = time.time()
            while metrics() == 0:
                if time.time() - began > 90: raise SystemExit("nothing dropped in 90 s")
                time.sleep(1)
            print("stalled", round(time.time() - began), "s")
            packets = []
            end = time.time() + 6
            while time.time() < end:
                opcode, payload = frame()
                if opcode == 2: packets.append((payload[1] & 1, struct.unpack(">q", payload[10:18])[0], struct.unpack(">q", payload[18:26])[0]))
            jumps = [i for i in range(1, len(packets)) if packets[i][1] - packets[i - 1][1] > 1.5 * max(packets[i - 1][2], 1)]
            print("packets", len(packets), "jumps", len(jumps), "keyframes after jumps", sum(packets[i][0] for i in jumps))
            print("dropped", int(metrics()))
            """
        let run = try runProgram("/usr/bin/env", ["python3", "-c", script, recorder.socket])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("upgrade HTTP/1.1 101"), "\(run.stdout)")
        // It read again: what came after each hole in its stream starts at a keyframe.
        let counts = run.stdout.split(separator: "\n").first { $0.hasPrefix("packets ") }?.split(separator: " ").compactMap { Int($0) } ?? []
        #expect(counts.count == 3 && counts[0] > 25 && counts[1] >= 1 && counts[2] == counts[1], "\(run.stdout)")
        // Meanwhile the recording went on: no gap but the one of its start.
        let gaps = sqlite(storage.appendingPathComponent("catalog.sqlite").path, "SELECT reason FROM gaps WHERE camera = 'a'")
        #expect(gaps.split(separator: "\n").allSatisfy { $0 == "connecting" }, "\(gaps)")
    }
}
