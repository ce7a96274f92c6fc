import ArgumentParser
import Foundation
import RecorderCore

/// Finds and loads the camera inventory a command works on.
enum SiteLocator {
    /// The file to use: the one given, else $VIGIE_SITE, else the shipped Tours inventory
    /// found from the working folder or from the executable's folder upwards.
    static func resolve(_ given: String?) throws -> String {
        if let given { return given }
        let environment = ProcessInfo.processInfo.environment
        if let site = environment["VIGIE_SITE"], !site.isEmpty { return site }
        var candidates = [FileManager.default.currentDirectoryPath + "/Layouts/tours.yaml"]
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(folder.appendingPathComponent("Layouts/tours.yaml").path)
            candidates.append(folder.appendingPathComponent("share/vigie/Layouts/tours.yaml").path)
            folder.deleteLastPathComponent()
        }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw ValidationError("no camera inventory given and none found (looked for Layouts/tours.yaml); pass --site FILE")
    }

    /// Loads the inventory; on problems prints them (file:line:column) and exits non-zero.
    static func load(_ given: String?) throws -> CameraInventory {
        let path = try resolve(given)
        do {
            let inventory = try CameraInventory.load(path: path)
            for warning in inventory.warnings { printError(warning.description) }
            return inventory
        } catch {
            for diagnostic in error.diagnostics { printError(diagnostic.description) }
            throw ExitCode(65)  // EX_DATAERR
        }
    }
}
