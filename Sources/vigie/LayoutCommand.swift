import ArgumentParser
import Foundation
import RecorderCore
import Wall

struct Layout: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layout",
        abstract: "Check wall layout and rotation schedule files.",
        subcommands: [Check.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check layout files: file:line:column for each problem (unknown cameras, empty pages, overlapping windows); non-zero exit on errors.")

        @Argument(help: "Layout files.")
        var files: [String]

        @Option(help: "Show the pages in force at this local time, \"YYYY-MM-DD HH:MM\" (default: now).")
        var at: String?

        func validate() throws {
            if files.isEmpty { throw ValidationError("give at least one layout file") }
        }

        func run() throws {
            var failed = false
            for file in files {
                do {
                    let (layout, inventory) = try WallLayout.load(path: file)
                    for warning in layout.warnings { printError(warning.description) }
                    print("\(file): wall \"\(layout.name)\", \(layout.columns)x\(layout.rows), \(layout.pages.count) pages, \(layout.schedule.count) schedule windows, cameras from \(inventory.file)")
                    let zone = inventory.site.timeZone
                    var moment = Date()
                    if let at {
                        let parser = DateFormatter()
                        parser.timeZone = zone
                        parser.dateFormat = "yyyy-MM-dd HH:mm"
                        guard let parsed = parser.date(from: at) else { throw ValidationError("--at is YYYY-MM-DD HH:MM") }
                        moment = parsed
                    }
                    let active = layout.activePages(at: moment, timeZone: zone)
                    print("  in force \(at ?? "now"): \(active.window.map { "window \"\($0)\"" } ?? "default rotation")")
                    for page in active.pages {
                        print("    \(page.name) (\(Int(page.dwell)) s): \(page.cameraIDs.joined(separator: " "))")
                    }
                } catch let error as ConfigurationError {
                    for diagnostic in error.diagnostics { printError(diagnostic.description) }
                    printError("\(file): \(error.errors.count) error(s)")
                    failed = true
                }
            }
            if failed { throw ExitCode(65) }
        }
    }
}
