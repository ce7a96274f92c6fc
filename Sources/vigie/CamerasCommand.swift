import ArgumentParser
import Foundation
import RecorderCore

struct Cameras: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cameras",
        abstract: "List and check camera inventories.",
        subcommands: [List.self, Check.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the cameras of an inventory (credentials hidden).")

        @Argument(help: "Inventory file (default: the shipped Tours inventory or $VIGIE_SITE).")
        var file: String?

        @Flag(name: .long, help: "Also show stream addresses and neighbours.")
        var verbose = false

        func run() throws {
            let inventory = try SiteLocator.load(file)
            print("\(inventory.site.name) (\(inventory.site.timeZone.identifier)): \(inventory.cameras.count) cameras")
            let idWidth = max(2, inventory.cameras.map(\.id.count).max() ?? 2)
            let nameWidth = max(4, inventory.cameras.map(\.name.count).max() ?? 4)
            print("  #  \("id".padded(idWidth))  \("name".padded(nameWidth))  location")
            for camera in inventory.cameras {
                print(
                    "\(String(camera.number).leftPadded(3))  \(camera.id.padded(idWidth))  \(camera.name.padded(nameWidth))  \(camera.location)")
                if verbose {
                    print("     main: \(camera.displayMainURL)")
                    if let sub = camera.displaySubURL { print("     sub:  \(sub)") }
                    if !camera.neighbours.isEmpty { print("     neighbours: \(camera.neighbours.joined(separator: ", "))") }
                    if let notes = camera.notes { print("     notes: \(notes)") }
                }
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check inventory files; print file:line:column for each problem, exit non-zero on errors.")

        @Argument(help: "Inventory files.")
        var files: [String]

        func validate() throws {
            if files.isEmpty { throw ValidationError("give at least one inventory file") }
        }

        func run() throws {
            var failed = false
            for file in files {
                do {
                    let inventory = try CameraInventory.load(path: file)
                    for warning in inventory.warnings { printError(warning.description) }
                    print("\(file): \(inventory.cameras.count) cameras, \(inventory.warnings.count) warning(s), no errors")
                } catch {
                    for diagnostic in error.diagnostics { printError(diagnostic.description) }
                    printError("\(file): \(error.errors.count) error(s)")
                    failed = true
                }
            }
            if failed { throw ExitCode(65) }
        }
    }
}

extension String {
    func padded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
    func truncated(_ width: Int) -> String { count <= width ? self : String(prefix(max(0, width - 1))) + "…" }
}
