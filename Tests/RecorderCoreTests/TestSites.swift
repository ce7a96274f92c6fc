import Foundation
import TestSupport

/// Sites for the recorder's tests, and the `vigie` program run on them.
enum TestSites {
    /// Simulated footage, built once per machine and shared by these tests.
    static let cache = TestPaths.scratch.appendingPathComponent("sim-cache").path

    /// A site of simulated cameras; their main streams are built before it is returned.
    static func simulated(_ ids: [String], in folder: URL, extra: String = "") throws -> URL {
        var yaml = "site:\n  name: Test\n  timezone: Europe/Paris\n\(extra)cameras:\n"
        for id in ids {
            let others = ids.filter { $0 != id }
            yaml += "  - id: \(id)\n    name: Rue \(id)\n    location: Ville\n    main: sim://\(id)/main\n"
            if !others.isEmpty { yaml += "    neighbours: [\(others.joined(separator: ", "))]\n" }
        }
        let site = folder.appendingPathComponent("site.yaml")
        try yaml.write(to: site, atomically: true, encoding: .utf8)
        let prepared = try vigie(["sim", "prepare", "--site", site.path, "--stream", "main"])
        guard prepared.status == 0 else { throw FixtureError("sim prepare failed: \(prepared.stderr)") }
        return site
    }

    /// A site of the given stream addresses, cameras cam0, cam1...
    static func addresses(_ urls: [String], in folder: URL, transport: String? = nil, extra: String = "") throws -> URL {
        var yaml = "site:\n  name: Test\n  timezone: Europe/Paris\n\(extra)cameras:\n"
        for (index, url) in urls.enumerated() {
            yaml += "  - id: cam\(index)\n    name: Caméra \(index)\n    location: Loopback\n    main: \"\(url)\"\n"
            if let transport { yaml += "    transport: \(transport)\n" }
        }
        let site = folder.appendingPathComponent("site.yaml")
        try yaml.write(to: site, atomically: true, encoding: .utf8)
        return site
    }

    static var program: String {
        get throws { try TestPaths.vigie ?? { throw FixtureError("build vigie first") }() }
    }

    /// Runs `vigie` to its end.
    @discardableResult
    static func vigie(_ arguments: [String], input: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProgram(program, arguments, environment: ["VIGIE_CACHE": cache], input: input)
    }

    /// Runs `vigie` as another Unix user (setpriv; the tests run as root), as a second person
    /// on the machine would.
    @discardableResult
    static func vigie(as user: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProgram(
            "/usr/bin/setpriv", ["--reuid=\(user)", "--regid=\(user == "nobody" ? "nogroup" : user)", "--clear-groups", try program] + arguments,
            environment: ["VIGIE_CACHE": cache, "HOME": "/tmp"], input: input)
    }

    /// Starts `vigie` in the background, its standard error into `log`.
    static func start(_ arguments: [String], log: String) throws -> ChildProcess {
        try ChildProcess(program, arguments, environment: ["VIGIE_CACHE": cache], stderr: log)
    }
}

/// Reads a catalog with the sqlite3 tool (an independent reader).
func sqlite(_ catalog: String, _ sql: String) -> String {
    ((try? runProgram("/usr/bin/sqlite3", [catalog, sql]).stdout) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
}

/// No byte a terminal would obey (C0 controls but line feed, DEL, C1 controls in UTF-8).
func hasRawControls(_ text: String) -> Bool {
    text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) }
}
