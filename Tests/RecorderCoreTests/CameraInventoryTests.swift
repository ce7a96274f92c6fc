import Foundation
import RecorderCore
import TestSupport
import Testing

@Suite struct CameraInventoryTests {
    let good = """
        site:
          name: CSU test
          timezone: Europe/Paris
          retention_days: 15
        cameras:
          - id: gare-nord
            name: Gare nord
            location: Place du Général-Leclerc
            main: rtsp://admin:s3cret@10.0.0.12:554/Streaming/Channels/101
            sub: rtsp://admin:s3cret@10.0.0.12:554/Streaming/Channels/102
            neighbours: [gare-sud]
          - id: gare-sud
            name: Gare sud
            location: Boulevard Heurteloup
            main: sim://gare-sud/main
            neighbours: [gare-nord]
            transport: udp
            notes: fixe
        """

    @Test func readsAGoodFile() throws {
        let inventory = try CameraInventory.parse(yaml: good, file: "site.yaml")
        #expect(inventory.site.name == "CSU test")
        #expect(inventory.site.retentionDays == 15)
        #expect(inventory.cameras.map(\.id) == ["gare-nord", "gare-sud"])
        #expect(inventory.camera("2")?.id == "gare-sud")
        #expect(inventory.camera("gare-sud")?.transport == .udp)
        #expect(inventory.camera("gare-nord")?.displayMainURL == "rtsp://***@10.0.0.12:554/Streaming/Channels/101")
        #expect(inventory.cameras(matching: "gare-*").count == 2)
        #expect(inventory.warnings.isEmpty)
    }

    @Test(arguments: ["tours.yaml", "coutances.yaml"])
    func shippedInventoriesAreValid(name: String) throws {
        let inventory = try CameraInventory.load(path: TestPaths.repository.appendingPathComponent("Layouts/\(name)").path)
        #expect(inventory.cameras.count == (name == "tours.yaml" ? 60 : 13))
        #expect(inventory.warnings.isEmpty)
        for camera in inventory.cameras { #expect(!camera.neighbours.isEmpty, "\(camera.id) has no neighbour") }
    }

    /// Each broken file, and the `line:column: message` it must produce.
    @Test(arguments: [
        ("cameras:\n  - id: a\n    name: A\n    location: L\n    main: sim://a/main\n    zoom: 3\n", "f.yaml:6:5: error: unknown key `zoom`"),
        ("site:\n  name: X\n  timezon: Europe/Paris\ncameras: []\n", "f.yaml:3:3: error: unknown key `timezon` in site (did you mean `timezone`?)"),
        ("site:\n  name: X\ncameras:\n  - id: a\n    name: A\n    location: L\n    main: sim://a/main\n  - id: a\n    name: B\n    location: L\n    main: sim://a/main\n", "f.yaml:8:9: error: duplicate camera id `a` (first at line 4)"),
        ("site:\n  name: X\ncameras:\n  - id: a\n    name: A\n    location: L\n    main: rtsp//10.0.0.1/x\n", "f.yaml:7:11: error: main stream: `rtsp//10.0.0.1/x` is not an address"),
        ("site:\n  name: X\ncameras:\n  - id: a\n    name: A\n    location: L\n    main: rtsp://10.0.0.1:99999/x\n", "f.yaml:7:11: error: main stream: `rtsp://10.0.0.1:99999/x`: the port must be a number from 1 to 65535"),
        ("site:\n  name: X\ncameras:\n  - id: a\n    name: A\n    location: L\n    main: sim://a/main\n    neighbours: [a2]\n", "f.yaml:8:18: error: camera a: neighbour `a2` is not a camera of this inventory"),
        ("site:\n  name: X\n  retention_days: 45\ncameras:\n  - id: a\n    name: A\n    location: L\n    main: sim://a/main\n", "f.yaml:3:19: error: retention_days 45 is longer than the authorisation allows: at most 30 days (the law allows at most one month)"),
        ("site:\n  name: X\ncameras:\n  - id: a\n    name: A\n    main: sim://a/main\n", "f.yaml:4:5: error: camera a has no `location`"),
        ("site:\n  name: X\ncameras:\n  - id: Bad Id\n    name: A\n    location: L\n    main: sim://a/main\n", "f.yaml:4:9: error: camera id `Bad Id` must be lowercase"),
        ("site:\n  name: [unclosed\ncameras: []\n", "f.yaml:3:8: error: YAML syntax: did not find expected ',' or ']' (while parsing a flow sequence started at line 2, column 9)"),
        ("site:\n  name: X\ncameras:\n  - id: a\n    name: A\n    location: L\n    main: ftp://host/x\n", "f.yaml:7:11: error: main stream: `ftp://host/x`: unsupported scheme `ftp`"),
        ("site:\n  name: X\n  timezone: Europe/Tours\ncameras: []\n", "f.yaml:3:13: error: unknown time zone `Europe/Tours`"),
    ])
    func reportsWhereAndWhat(yaml: String, expected: String) {
        do {
            _ = try CameraInventory.parse(yaml: yaml, file: "f.yaml")
            Issue.record("no error for:\n\(yaml)")
        } catch {
            #expect(error.description.contains(expected), "got:\n\(error.description)")
        }
    }

    @Test func reportsEveryProblemAtOnce() {
        let yaml = "site:\n  name: X\ncameras:\n  - id: a\n    name: A\n    location: L\n    main: bad\n    colour: red\n  - id: b\n    name: B\n    location: L\n    main: sim://b/main\n    neighbours: [zz]\n"
        do {
            _ = try CameraInventory.parse(yaml: yaml, file: "f.yaml")
            Issue.record("no error")
        } catch {
            #expect(error.errors.count == 3, "\(error)")
            #expect(error.errors.map(\.location.line) == [7, 8, 13])
        }
    }

    @Test func credentialsNeverAppearInErrors() {
        let yaml = "site:\n  name: X\ncameras:\n  - id: a\n    name: A\n    location: L\n    main: rtsp://admin:hunter2@10.0.0.1:70000/x\n    sub: http://root:pass@[::1/x\n"
        do {
            _ = try CameraInventory.parse(yaml: yaml, file: "f.yaml")
            Issue.record("no error")
        } catch {
            #expect(error.errors.count == 2)
            #expect(!error.description.contains("hunter2"))
            #expect(!error.description.contains("pass@"))
            #expect(error.description.contains("rtsp://***@10.0.0.1:70000/x"))
        }
    }

    @Test func oneWayNeighboursAreAWarningNotAnError() throws {
        let yaml = "site:\n  name: X\ncameras:\n  - id: a\n    name: A\n    location: L\n    main: sim://a/main\n    neighbours: [b]\n  - id: b\n    name: B\n    location: L\n    main: sim://b/main\n"
        let inventory = try CameraInventory.parse(yaml: yaml, file: "f.yaml")
        #expect(inventory.warnings.count == 1)
        #expect(inventory.warnings.first?.description.hasPrefix("f.yaml:8:18: warning:") == true)
    }

    @Test func missingFileSaysSo() {
        #expect(throws: ConfigurationError.self) { _ = try CameraInventory.load(path: "/nonexistent/site.yaml") }
    }

    @Test(arguments: [("gare-*", "gare-nord", true), ("gare-?ord", "gare-nord", true), ("*sud", "gare-nord", false), ("*", "x", true)])
    func globMatchesIDs(pattern: String, id: String, expected: Bool) {
        #expect(Glob.matches(pattern, id) == expected)
    }
}
