import ArgumentParser
import Foundation
import RecorderCore

struct Recordings: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and check recorded segments.", subcommands: [RecordingsList.self, RecordingsVerify.self])
}

struct RecordingsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Segments and gaps of a camera (local times).")

    @OptionGroup var storageOptions: StorageOptions
    @Argument(help: "Camera id.") var camera: String
    @Option(help: "From (local time, YYYY-MM-DD HH:MM:SS).") var from: String?
    @Option(help: "To (local time).") var to: String?

    func run() throws {
        let (inventory, store) = try storageOptions.open(.readOnly)
        _ = try storageOptions.authorize(store, .playback, camera: inventory.camera(camera)?.id ?? camera)
        let zone = inventory.site.timeZone
        let start = try from.map { try parseLocal($0, zone, option: "--from") }
        let end = try to.map { try parseLocal($0, zone, option: "--to") }
        for segment in try store.catalog.segments(camera: camera, from: start, to: end) {
            print(
                "\(LocalTime.format(segment.start, timeZone: zone, offset: true))  \(String(format: "%6.1f s", segment.duration))  \(RecorderStatus.size(segment.bytes))  \(segment.keyframes.count) keyframes  \(segment.state.rawValue)  \(segment.path)"
            )
        }
        for gap in try store.catalog.gaps(camera: camera, from: start ?? .distantPast, to: end ?? .distantFuture) {
            print("gap \(LocalTime.format(gap.start, timeZone: zone)) to \(LocalTime.format(gap.end, timeZone: zone)): \(gap.reason)")
        }
    }
}

struct RecordingsVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check hashes, durations and continuity of the recordings against the catalog.",
        discussion: """
            Exits 0 when everything matches, 1 with one line per problem otherwise, 64 for a camera that \
            neither the site nor the recordings know. Reads only: works on a full disk and on \
            write-protected media.
            """)

    @OptionGroup var storageOptions: StorageOptions
    @Option(help: "Only this camera.") var camera: String?

    func run() throws {
        let (inventory, store, _) = try storageOptions.open(.readOnly, for: .verify)
        if let camera, inventory.camera(camera) == nil, try !store.catalog.usage().contains(where: { $0.camera == camera }) {
            printError("vigie recordings verify: no camera `\(camera)` in \(inventory.file) nor in the recordings")
            throw ExitCode(64)
        }
        let id = camera.flatMap { inventory.camera($0)?.id } ?? camera
        let report = try Recorder.verify(store: store, camera: id)
        for problem in report.problems { print(problem) }
        for note in report.notes { print("note: \(note)") }
        if report.problems.isEmpty {
            print("\(report.segments) segment(s) checked: files, hashes, durations and continuity match the catalog")
        } else {
            print("\(report.problems.count) problem(s) in \(report.segments) segment(s)")
            throw ExitCode(1)
        }
    }
}
