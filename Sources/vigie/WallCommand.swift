import ArgumentParser
import Console
import Foundation
import Logging
import RecorderCore
import Render
import Wall

struct WallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wall",
        abstract: "The operators' video wall: live cameras tiled in the terminal, zapping through the layout's pages.",
        discussion: """
            With no arguments it opens the simulated Tours centre with its shipped layout (Layouts/tours-wall.yaml). \
            Press ? for the keys. Operator actions are recorded in $VIGIE_STATE/events.jsonl \
            (default ~/.local/state/vigie/events.jsonl). SIGHUP or saving the layout file reloads it.
            """
    )

    @Option(help: "Camera inventory (default: the layout's `cameras:`).")
    var site: String?

    @Option(help: "Wall layout and rotation schedule (default: Layouts/tours-wall.yaml, or every camera 4x4 with --site).")
    var layout: String?

    @Option(help: "Graphics: auto (sixel when the terminal draws it, else half blocks), sixel, sextant, quadrant, half.")
    var graphics: String = "auto"

    @Option(help: "Colours: auto, truecolor, 256, 16.")
    var colors: String = "auto"

    @Option(help: "Largest picture output in bytes per second for thin links (50000, 64k, 1.5M); frames over it are skipped.")
    var maxRate: String?

    @Option(help: "Log file (the screen is the console's).")
    var logFile: String?

    @Option(help: "Write a summary (frames per tile per second, bytes per second, CPU) to this file when the wall stops.")
    var statistics: String?

    @Option(help: "Log level.")
    var logLevel: String = ProcessInfo.processInfo.environment["VIGIE_LOG"] ?? "info"

    func validate() throws {
        if !["auto", "sixel", "sextant", "quadrant", "half"].contains(graphics) {
            throw ValidationError("--graphics is auto, sixel, sextant, quadrant or half")
        }
        if let maxRate, OutputBudget.parseRate(maxRate) == nil {
            throw ValidationError("--max-rate is bytes per second, for example 50000, 64k or 1.5M")
        }
        if !["auto", "truecolor", "256", "16"].contains(colors) { throw ValidationError("--colors is auto, truecolor, 256 or 16") }
    }

    func run() throws {
        guard isatty(STDOUT_FILENO) != 0, isatty(STDIN_FILENO) != 0 else {
            printError("vigie wall: needs a terminal (use `vigie view` to write pictures to a file)")
            throw ExitCode(64)
        }
        let state = URL(fileURLWithPath: EventFile.defaultPath()).deletingLastPathComponent().path
        let logPath = logFile ?? state + "/console.log"
        LogSetup.toFile(path: logPath, level: Logger.Level(rawValue: logLevel) ?? .info)

        let inventory: CameraInventory
        let wallLayout: WallLayout
        var layoutPath: String? = nil
        do {
            if let layout {
                layoutPath = layout
                let given = try site.map { try SiteLocator.load($0) }
                (wallLayout, inventory) = try WallLayout.load(path: layout, inventory: given)
            } else if let site {
                inventory = try SiteLocator.load(site)
                (wallLayout, _) = try WallLayout.parse(yaml: "wall:\n  name: \(inventory.site.name)\n  grid: 4x4\n", file: "(default layout)", inventory: inventory)
            } else {
                let sitePath = try SiteLocator.resolve(nil)
                let path = URL(fileURLWithPath: sitePath).deletingLastPathComponent().appendingPathComponent("tours-wall.yaml").path
                layoutPath = path
                (wallLayout, inventory) = try WallLayout.load(path: path)
            }
        } catch let error as ConfigurationError {
            printError(error.description)
            throw ExitCode(65)
        }
        for warning in wallLayout.warnings { printError(warning.description) }

        var options = ConsoleOptions(operatorName: ProcessInfo.processInfo.environment["USER"] ?? NSUserName())
        options.graphics = graphics
        options.colors = colors
        options.statisticsPath = statistics
        options.maxBytesPerSecond = maxRate.flatMap(OutputBudget.parseRate)
        if graphics == "auto" || colors == "auto" || graphics == "sixel" { options.capabilities = TerminalQuery.probe() }
        let core = RecorderCore(inventory: inventory)
        let console = WallConsole(core: core, layout: wallLayout, layoutPath: layoutPath, options: options, audit: EventFile(path: EventFile.defaultPath()))
        console.run()
        core.shutdown()
    }
}
