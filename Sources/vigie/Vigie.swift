import ArgumentParser
import Foundation
import Logging
import Media

/// `vigie`: the supervision console and recorder's command line.
@main
struct Vigie: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "vigie",
        abstract: "Video-wall supervision console and recorder for municipal CCTV centres.",
        discussion: """
            With no site file, commands use the simulated Tours centre shipped in Layouts/ \
            (or $VIGIE_SITE). Footage of simulated cameras is cached in $VIGIE_CACHE \
            (default ~/.cache/vigie).
            """,
        version: version,
        subcommands: [
            WallCommand.self, Demo.self, Monitor.self, View.self, Play.self, Record.self, RecorderCommand.self, Recordings.self, HoldCommand.self, RequisitionCommand.self, ExportCommand.self, AnalyseCommand.self, SearchCommand.self, RegisterCommand.self, ComplianceCommand.self, AuditCommand.self, AccountsCommand.self, Login.self, Logout.self,
            Probe.self, Cameras.self, Layout.self, Sim.self, Bench.self,
        ],
        defaultSubcommand: nil
    )
}

/// Options every command that opens a site shares.
struct SiteOptions: ParsableArguments {
    @Option(name: .long, help: "Camera inventory (YAML). Default: $VIGIE_SITE, else Layouts/tours.yaml.")
    var site: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = ProcessInfo.processInfo.environment["VIGIE_LOG"] ?? "warning"

    var level: Logger.Level { Logger.Level(rawValue: logLevel) ?? .warning }
}
