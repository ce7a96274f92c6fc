import ArgumentParser
import Console
import Foundation
import Logging
import Media
import RecorderCore
import RecorderAPI
import Render
import Server
import Wall

struct WallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wall",
        abstract: "The operators' video wall: live cameras tiled in the terminal, zapping through the layout's pages.",
        discussion: """
            With no arguments it opens the simulated Tours centre with its shipped layout (Layouts/tours-wall.yaml). \
            Press ? for the keys. Operator actions go to the audit log of the site's recordings \
            (see `vigie audit show`). SIGHUP or saving the layout file reloads it. With --record the \
            console also records every camera (an embedded recorder; `vigie record` does it alone).
            """
    )

    @Option(help: "Camera inventory (default: the layout's `cameras:`).")
    var site: String?

    @Option(help: "Wall layout and rotation schedule (default: Layouts/tours-wall.yaml, or every camera 4x4 with --site).")
    var layout: String?

    @OptionGroup var console: ConsoleArguments

    func run() throws {
        var remote: RemoteSite? = nil
        if let server = console.server {
            let site = try RemoteSite.connect(server)
            guard site.cameras.contains(where: \.live) || site.inventory.site.mode == .videoprotection else {
                printError("vigie wall: refused: account \(site.session.account) (\(site.session.role)) may watch no camera")
                throw ExitCode(77)
            }
            remote = site
        }

        let inventory: CameraInventory
        let wallLayout: WallLayout
        var layoutPath: String? = nil
        do {
            if let remote {
                inventory = remote.inventory
                if let layout {
                    layoutPath = layout
                    (wallLayout, _) = try WallLayout.load(path: layout, inventory: inventory)
                } else {
                    // Every camera the account may watch, 4x4 (not the others' empty tiles).
                    (wallLayout, _) = try WallLayout.parse(
                        yaml: WallLayout.defaultYAML(name: inventory.site.name), file: "(default layout)", inventory: remote.viewable)
                }
            } else if let layout {
                layoutPath = layout
                let given = try site.map { try SiteLocator.load($0) }
                (wallLayout, inventory) = try WallLayout.load(path: layout, inventory: given)
            } else if let site {
                inventory = try SiteLocator.load(site)
                (wallLayout, _) = try WallLayout.parse(yaml: WallLayout.defaultYAML(name: inventory.site.name), file: "(default layout)", inventory: inventory)
            } else {
                let sitePath = try SiteLocator.resolve(nil)
                let path = URL(fileURLWithPath: sitePath).deletingLastPathComponent().appendingPathComponent("tours-wall.yaml").path
                layoutPath = path
                (wallLayout, inventory) = try WallLayout.load(path: path)
            }
        } catch let error as ConfigurationError {
            for diagnostic in error.diagnostics { printError(diagnostic.description) }
            throw ExitCode(65)
        }
        for warning in wallLayout.warnings { printError(warning.description) }
        try console.prepare(command: "wall")

        if let remote {
            try console.launch(remote: remote, layout: wallLayout, layoutPath: layoutPath)
        } else {
            try console.launch(inventory: inventory, layout: wallLayout, layoutPath: layoutPath)
        }
    }
}

/// What `wall` and `play` share: how pictures are drawn, where logs and recordings go.
struct ConsoleArguments: ParsableArguments {
    @Option(help: "Graphics: auto (sixel when the terminal draws it, else half blocks), sixel, sextant, quadrant, half, ascii.")
    var graphics: String = "auto"

    @Option(help: "Colours: auto, truecolor, 256, 16.")
    var colors: String = "auto"

    @Option(help: "Largest picture output in bytes per second for thin links (50000, 64k, 1.5M); frames over it are skipped.")
    var maxRate: String?

    @Option(help: "Recordings folder (default: $VIGIE_STORAGE, else ~/.local/share/vigie/recordings/SITE).")
    var storage: String?

    @Flag(help: "Record every camera of the site in this process too (an embedded recorder).")
    var record = false

    @Option(help: ArgumentHelp("Be the client of this recorder: HOST:PORT over TLS (after `vigie login`), or its socket STORAGE/recorder.sock.", valueName: "server"))
    var server: String?

    @Option(help: "Log file (the screen is the console's; default $VIGIE_STATE/console.log, else ~/.local/state/vigie/console.log).")
    var logFile: String?

    @Option(help: "Write a summary (frames per tile per second, bytes per second, CPU) to this file when the console stops.")
    var statistics: String?

    @Option(help: "Log level.")
    var logLevel: String = ProcessInfo.processInfo.environment["VIGIE_LOG"] ?? "info"

    func validate() throws {
        if graphics != "auto" && graphics != "sixel" && Blitter(rawValue: graphics) == nil {
            throw ValidationError("--graphics is auto, sixel, sextant, quadrant, half or ascii")
        }
        if let maxRate, OutputBudget.parseRate(maxRate) == nil {
            throw ValidationError("--max-rate is bytes per second, for example 50000, 64k or 1.5M")
        }
        if !["auto", "truecolor", "256", "16"].contains(colors) { throw ValidationError("--colors is auto, truecolor, 256 or 16") }
        if server != nil && record { throw ValidationError("--record is the recorder's work: with --server, the recorder records") }
    }

    /// Checks there is a terminal and sends logs to a file.
    func prepare(command: String) throws {
        guard isatty(STDOUT_FILENO) != 0, isatty(STDIN_FILENO) != 0 else {
            printError("vigie \(command): needs a terminal (use `vigie view` to write pictures to a file)")
            throw ExitCode(64)
        }
        LogSetup.toFile(path: logFile ?? ConsoleArguments.stateFolder + "/console.log", level: Logger.Level(rawValue: logLevel) ?? .info)
    }

    /// Where consoles keep their logs: $VIGIE_STATE, else ~/.local/state/vigie.
    static var stateFolder: String {
        ProcessInfo.processInfo.environment["VIGIE_STATE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/state/vigie").path
    }

    /// Opens the site's recordings (and the embedded recorder with --record), runs the
    /// console until the operator quits, then stops everything.
    func launch(
        inventory: CameraInventory, layout: WallLayout, layoutPath: String?, playback: (camera: String, at: Date, speed: Double)? = nil,
        reason: String? = nil, requisition: String? = nil, synchronizeWith: [String] = []
    ) throws {
        let root = RecordingStore.root(given: storage, siteName: inventory.site.name)
        let store: RecordingStore
        var rebuild: CatalogRebuild? = nil
        do {
            if record {
                (store, rebuild) = try RecordingStore.openForRecording(root: root, who: unixUser)
                if let rebuild { printError("vigie: CATALOG DAMAGED, recording goes on: \(rebuild)") }
            } else {
                store = try RecordingStore(root: root)
            }
        } catch {
            throw StorageOptions.exit(error)
        }
        let actor = try authorizeLocal(store, playback == nil ? .live : .playback, camera: playback?.camera)
        var options = ConsoleOptions(operatorName: actor.name)
        options.mayView = { AccessPolicy.refusal(actor, .live, camera: $0) == nil }
        options.playbackRefusal = { AccessPolicy.refusal(actor, .playback, camera: $0) }
        configure(&options)
        options.startPlayback = playback
        options.synchronizeWith = synchronizeWith
        options.reason = reason
        options.requisition = requisition
        if inventory.site.mode == .videoprotection {
            // No live view for anyone: the console opens on the requisitions.
            options.mayView = { _ in false }
            options.opensOnRequisitions = true
        }
        let (core, _) = SiteSources.core(inventory)
        var recorder: Recorder? = nil
        if record {
            recorder = Recorder(core: core, store: store, who: unixUser, rebuild: rebuild)
            do {
                _ = try recorder?.start()
            } catch {
                throw StorageOptions.exit(error, command: "vigie: cannot record")
            }
        }
        // The audit log written off the console's thread; what is queued is written before the end.
        let audit = QueuedAuditSink(store.audit)
        // Analysis and search through the same API as the recorder's: the same checks, the same audit.
        let api = ServerAPI(store: store, inventory: inventory, metrics: { "" })
        let console = WallConsole(
            core: core, recordings: LocalRecordings(store: store, site: inventory.site, who: actor.name, audit: audit), layout: layout, layoutPath: layoutPath,
            options: options, audit: audit, search: RecorderService(InProcessTransport(api: api, unixUser: unixUser)))
        console.run()
        api.stopAnalyses()
        audit.finish()
        recorder?.stop()
        core.shutdown()
    }

    private func configure(_ options: inout ConsoleOptions) {
        options.graphics = graphics
        options.colors = colors
        options.statisticsPath = statistics
        options.maxBytesPerSecond = maxRate.flatMap(OutputBudget.parseRate)
        if graphics == "auto" || colors == "auto" || graphics == "sixel" { options.capabilities = TerminalQuery.probe() }
    }

    /// The console as the recorder's client: pictures relayed, audit written by the recorder.
    func launch(
        remote: RemoteSite, layout: WallLayout, layoutPath: String?, playback: (camera: String, at: Date, speed: Double)? = nil, reason: String? = nil,
        requisition: String? = nil, synchronizeWith: [String] = []
    ) throws {
        var options = ConsoleOptions(operatorName: remote.session.account)
        options.mayView = remote.mayView
        options.playbackRefusal = remote.playbackRefusal
        configure(&options)
        options.startPlayback = playback
        options.synchronizeWith = synchronizeWith
        options.reason = reason
        options.requisition = requisition
        if remote.inventory.site.mode == .videoprotection {
            options.mayView = { _ in false }
            options.opensOnRequisitions = true
        }
        let watch = SessionWatch(service: remote.service)
        options.sessionEnded = { watch.endedBecause }
        let sender = RecorderAuditSink(service: remote.service)
        let audit = QueuedAuditSink(sender)
        let console = WallConsole(
            core: remote.core, recordings: remote.recordings, layout: layout, layoutPath: layoutPath, options: options, audit: audit, search: remote.service)
        console.run()
        watch.stop()
        audit.finish(timeout: console.endedBecause == nil ? 5 : 0.5)
        sender.stop()
        remote.core.shutdown()
        if let why = console.endedBecause {
            printError("vigie: disconnected by the recorder: \(why)")
            throw ExitCode(77)
        }
    }
}

struct Play: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play a camera's recordings from a local date and time, in the console.",
        discussion: """
            Keys: [ ] back/forward 10 s, { } 1 min, t type a date and time, Space pause, + - speed \
            (1/4x to 16x), . one frame forward while paused, ←/→ and N other cameras at the same time, \
            L live, Esc the wall, q quit. The opening and the period watched go to the audit log. \
            With --frames N (or standard output not a terminal) it writes N frames as plain VT bytes \
            and reports how long the seek to the first frame took.
            """
    )

    @Argument(help: "Camera id or number.") var camera: String
    @Option(help: "Local date and time to start at: YYYY-MM-DD HH:MM:SS (add +01:00 or Z when the hour happened twice).")
    var at: String
    @Option(help: "Speed: 0.25, 0.5, 1, 2, 4, 8, 16.") var speed: Double = 1
    @Option(help: "The requisition the recordings are consulted under (default: the open one that covers the camera and time).")
    var requisition: String?
    @Option(help: "Why the recordings are consulted, when no requisition covers them (if the site allows it; marked so in the audit log).")
    var reason: String?
    @Option(help: "Camera inventory (YAML). Default: $VIGIE_SITE, else Layouts/tours.yaml.") var site: String?
    @Option(help: "Other cameras (ids or numbers, comma separated) played beside it at the same time: a synchronised wall.") var with: String?
    @Option(help: "Write this many frames as VT bytes to standard output, then stop (no console).") var frames: Int?
    @Option(help: "Area in cells for --frames, COLSxROWS.") var size: String = "80x24"
    @OptionGroup var console: ConsoleArguments

    func validate() throws {
        if !Player.speeds.contains(speed) { throw ValidationError("--speed is one of 0.25, 0.5, 1, 2, 4, 8, 16") }
        if let frames, frames < 1 { throw ValidationError("--frames must be at least 1") }
        if View.parseSize(size) == nil { throw ValidationError("--size is COLSxROWS") }
    }

    func run() throws {
        // Through a recorder (--server): its cameras, its recordings, its audit log.
        var remote: RemoteSite? = nil
        if let server = console.server {
            if site != nil { throw ValidationError("--site is the recorder's: with --server, the cameras come from the recorder") }
            remote = try RemoteSite.connect(server)
        }
        let inventory = try remote?.inventory ?? SiteLocator.load(site)
        guard let found = inventory.camera(camera) else {
            printError("vigie play: no camera `\(camera)` in \(remote.map { _ in "the recorder's cameras" } ?? inventory.file)")
            throw ExitCode(64)
        }
        let start = try parseLocal(at, inventory.site.timeZone, option: "--at")
        var others: [String] = []
        for given in (with ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !given.isEmpty {
            guard let camera = inventory.camera(given) else {
                printError("vigie play: --with: no camera `\(given)`")
                throw ExitCode(64)
            }
            others.append(camera.id)
        }
        if frames != nil || isatty(STDOUT_FILENO) == 0 {
            try plain(inventory: inventory, camera: found.id, start: start, remote: remote)
            remote?.core.shutdown()
            return
        }
        try console.prepare(command: "play")
        let layout: WallLayout
        do {
            (layout, _) = try WallLayout.parse(
                yaml: WallLayout.defaultYAML(name: inventory.site.name), file: "(default layout)", inventory: inventory)
        } catch {
            printError("\(error)")
            throw ExitCode(65)
        }
        if let remote {
            if let refusal = remote.playbackRefusal(found.id) {
                printError("vigie play: refused: \(refusal)")
                throw ExitCode(77)
            }
            try console.launch(remote: remote, layout: layout, layoutPath: nil, playback: (found.id, start, speed), reason: reason, requisition: requisition,
                synchronizeWith: others)
        } else {
            try console.launch(inventory: inventory, layout: layout, layoutPath: nil, playback: (found.id, start, speed), reason: reason, requisition: requisition,
                synchronizeWith: others)
        }
    }

    /// Frames to standard output: measurable, and the seek latency benchmark.
    private func plain(inventory: CameraInventory, camera: String, start: Date, remote: RemoteSite?) throws {
        LogSetup.toStandardError(level: Logger.Level(rawValue: console.logLevel) ?? .warning)
        // Locally `ConsultedPackets` decides and audits as the recorder does for its clients.
        let packets: any RecordedPackets
        if let remote {
            packets = remote.recordings.packets(camera: camera, reason: reason, requisition: requisition)
        } else {
            let root = RecordingStore.root(given: console.storage, siteName: inventory.site.name)
            let store = try RecordingStore(root: root)
            let actor = try authorizeLocal(store, .playback, camera: camera)
            packets = ConsultedPackets(
                inner: SegmentPackets(store: store, camera: camera), store: store, site: inventory.site, who: actor.name, reason: reason,
                requisition: requisition, audit: store.audit)
        }
        let area = View.parseSize(size)!
        let began = MonotonicClock.seconds()
        // One positioning: the picture size first, then the seek from there.
        let reader = try PlaybackReader(packets: packets, width: 2, height: 2)
        let video: (width: Int, height: Int)?
        do {
            video = try reader.recordedSize(at: start)
        } catch {
            printError("vigie play: \(error.message)")
            throw ExitCode(error.message.contains("refused") ? 77 : 69)
        }
        guard let video else {
            printError("vigie play: no recording of \(camera) at or after \(LocalTime.format(start, timeZone: inventory.site.timeZone))")
            throw ExitCode(66)
        }
        let picture = TerminalPicture(
            area: area, videoWidth: video.width, videoHeight: video.height, graphics: console.graphics, colors: console.colors,
            cellSize: nil, threshold: 10, toTerminal: false)
        try reader.resize(
            width: picture.renderer.pixelWidth, height: picture.renderer.pixelHeight, preview: picture.renderer.pixelWidth * 2 <= video.width)
        let prepared = MonotonicClock.seconds()
        var buffer = VTBuffer(colorMode: picture.colorMode)
        var frame = try reader.seek(to: start)
        var shown = 0, firstLatency = 0.0, last = start
        let output = FileHandle.standardOutput
        while let current = frame, shown < (frames ?? 1) {
            picture.renderer.draw(pixels: current.image.pixels, into: &buffer)
            buffer.resetAttributes()
            output.write(Data(buffer.drain()))
            if shown == 0 {
                firstLatency = MonotonicClock.seconds() - began
                printError(
                    "vigie play: first frame \(LocalTime.format(current.time, timeZone: inventory.site.timeZone, offset: true, fraction: true)) (\(current.segmentPath)) shown \(String(format: "%.1f", firstLatency * 1000)) ms after the seek began"
                        + " (size probe with the consultation's check and audit \(String(format: "%.1f", (prepared - began) * 1000)) ms, \(reader.lastSeek), drawn \(String(format: "%.1f", (MonotonicClock.seconds() - prepared) * 1000 - reader.lastSeek.total)) ms)"
                )
            }
            last = current.time
            shown += 1
            frame = shown < (frames ?? 1) ? try reader.next() : nil
        }
        printError("vigie play: \(shown) frame(s), last \(LocalTime.format(last, timeZone: inventory.site.timeZone, offset: true, fraction: true))")
    }
}
