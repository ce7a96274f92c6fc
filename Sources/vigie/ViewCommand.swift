import ArgumentParser
import Console
import Foundation
import Media
import RecorderCore
import Render

/// `vigie view`: one camera, file or address in the terminal, like `mpv --vo=tct`.
struct View: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one camera, file or address in the terminal with block graphics.",
        discussion: """
            With standard output redirected to a file it needs no terminal and writes plain VT bytes \
            (so its output can be measured and replayed). Ctrl-C stops.
            """
    )

    @Argument(help: "Address (rtsp://, http(s)://, sim://), file, or camera id/number of the inventory.")
    var source: String

    @OptionGroup var siteOptions: SiteOptions

    @Option(help: "Area in cells, COLSxROWS (default: the terminal's size, else 80x24).")
    var size: String?

    @Option(help: "Graphics: auto (sixel when the terminal draws it, else half blocks), sixel, sextant, quadrant, half, ascii.")
    var graphics: String = "auto"

    @Option(help: "Pixels of one text cell for sixel, WxH (default: the terminal's, else 10x20).")
    var cellSize: String?

    @Option(help: "Colours: auto, truecolor, 256, 16.")
    var colors: String = "auto"

    @Option(help: "Stop after N frames.")
    var frames: Int?

    @Flag(help: "Draw frames as fast as possible (benchmarks), not at the stream's pace.")
    var untimed = false

    @Option(help: "Largest channel difference (0-255) below which a cell is not redrawn at once.")
    var threshold: Int = 10

    @Option(help: "Largest output in bytes per second for thin links (50000, 64k, 1.5M); frames over it are skipped.")
    var maxRate: String?

    @Option(help: "Which stream of a camera given by id: main or sub.")
    var stream: String = "main"

    func validate() throws {
        if let size, View.parseSize(size) == nil { throw ValidationError("--size is COLSxROWS, for example 80x24") }
        if graphics != "auto" && graphics != "sixel" && Blitter(rawValue: graphics) == nil {
            throw ValidationError("--graphics is auto, sixel, sextant, quadrant, half or ascii")
        }
        if let cellSize, View.parseSize(cellSize) == nil { throw ValidationError("--cell-size is WxH pixels, for example 10x20") }
        if colors != "auto" && ColorMode(rawValue: colors) == nil { throw ValidationError("--colors is auto, truecolor, 256 or 16") }
        if !(0...255).contains(threshold) { throw ValidationError("--threshold is 0 to 255") }
        if let maxRate, OutputBudget.parseRate(maxRate) == nil {
            throw ValidationError("--max-rate is bytes per second, for example 50000, 64k or 1.5M")
        }
        if let frames, frames < 1 { throw ValidationError("--frames must be at least 1") }
    }

    static func parseSize(_ text: String) -> (columns: Int, rows: Int)? {
        let parts = text.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0, parts[0] <= 1000, parts[1] <= 500 else { return nil }
        return (parts[0], parts[1])
    }

    func run() throws {
        let toTerminal = isatty(STDOUT_FILENO) != 0
        LogSetup.toStandardError(level: siteOptions.level)
        let area = size.flatMap(View.parseSize) ?? (toTerminal ? TerminalSize.current() : nil) ?? (80, 24)
        let (packetSource, interrupt, _) = try OpenedSource.open(source, site: siteOptions.site, stream: stream, pictures: true)
        let video = packetSource.video
        let picture = TerminalPicture(
            area: area, videoWidth: video.parameters.width, videoHeight: video.parameters.height, graphics: graphics, colors: colors,
            cellSize: cellSize, threshold: threshold, toTerminal: toTerminal)
        let renderer = picture.renderer, colorMode = picture.colorMode, modeName = picture.modeName
        let scaler = try Scaler(outputWidth: renderer.pixelWidth, outputHeight: renderer.pixelHeight)
        // A terminal shows the picture at a fraction of its size: preview decoding (no deblocking).
        let decoder = try Decoder(
            parameters: video.parameters, timeBase: video.timeBase, threads: 1,
            forPreview: renderer.pixelWidth * 2 <= video.parameters.width)
        var buffer = VTBuffer(colorMode: colorMode)
        var image = RGBImage(width: renderer.pixelWidth, height: renderer.pixelHeight)
        let output = FileHandle.standardOutput
        let stop = SignalFlag.install()

        if toTerminal { buffer.append("\u{1B}[?1049h\u{1B}[?25l") }
        buffer.append("\u{1B}[0m\u{1B}[2J")
        var shown = 0, dropped = 0, bytesOut = 0
        var budget = maxRate.flatMap(OutputBudget.parseRate).map { OutputBudget(bytesPerSecond: $0) }
        let cpuStart = processCPUSeconds()
        var clockStart: (wall: Double, stream: Double)? = nil
        defer {
            var closing = VTBuffer(colorMode: colorMode)
            closing.append("\u{1B}[0m")
            if toTerminal { closing.append("\u{1B}[?25h\u{1B}[?1049l") }
            output.write(Data(closing.drain()))
            interrupt.cancel()
            let cpu = processCPUSeconds() - cpuStart
            printError(
                String(
                    format: "vigie view: %d frames shown, %d dropped late, %d skipped for --max-rate, %d bytes (%.0f per frame), %@, CPU %.2f s (%.2f ms per frame)",
                    shown, dropped, budget?.skipped ?? 0, bytesOut, Double(bytesOut) / Double(max(1, shown)), modeName, cpu,
                    cpu * 1000 / Double(max(1, shown))))
        }

        func present(_ frame: Frame) throws {
            if !untimed, let pts = frame.pts {
                let streamTime = frame.timeBase.seconds(pts)
                let now = MonotonicClock.seconds()
                if clockStart == nil { clockStart = (now, streamTime) }
                let due = clockStart!.wall + (streamTime - clockStart!.stream)
                if now - due > 0.25 {
                    dropped += 1  // the terminal fell behind: skip, never queue
                    return
                }
                if due > now { Thread.sleep(forTimeInterval: due - now) }
            }
            let now = MonotonicClock.seconds()
            if budget != nil && !budget!.allows(now: now) { return }  // over --max-rate: the next frame will do
            try scaler.scale(frame, into: &image)
            if toTerminal { buffer.beginSynchronizedUpdate() }
            renderer.draw(pixels: image.pixels, into: &buffer)
            buffer.resetAttributes()
            if toTerminal { buffer.endSynchronizedUpdate() }
            let bytes = buffer.drain()
            bytesOut += bytes.count
            budget?.spend(bytes.count, now: now)
            output.write(Data(bytes))
            shown += 1
        }

        reading: while !stop.isSet, let packet = try packetSource.read() {
            guard decoder.send(packetOrThrow: packet) else { continue }
            while let frame = try decoder.receive() {
                try present(frame)
                if let frames, shown >= frames { break reading }
                if stop.isSet { break reading }
            }
        }
        if frames == nil || shown < frames! {
            _ = try? decoder.send(nil)
            while let frame = try? decoder.receive(), frames == nil || shown < frames! { try present(frame) }
        }
    }
}

extension Decoder {
    /// Sends a packet; a damaged one is skipped (false) rather than ending the view.
    func send(packetOrThrow packet: Packet) -> Bool {
        (try? send(packet)) != nil
    }
}

/// The terminal's size in cells (TIOCGWINSZ on standard output).
enum TerminalSize {
    static func current() -> (columns: Int, rows: Int)? {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return nil }
        return (Int(size.ws_col), Int(size.ws_row))
    }
}

/// Opens what `view` and `probe` are given: an address, a file, or a camera of the inventory.
enum OpenedSource {
    /// Opens the source; prints a clear error and exits 64 (no such camera) or 69 (unreachable).
    static func open(
        _ source: String, site: String?, stream: String, transport: RTSPTransport? = nil, timeout: Double = 10, pictures: Bool = false
    ) throws -> (source: any PacketSource, interrupt: InterruptFlag, url: String) {
        let looksLikeAddress = source.contains("://") || source.hasPrefix("/") || source.hasPrefix(".")
            || FileManager.default.fileExists(atPath: source)
        let interrupt = InterruptFlag()
        var url = source
        var chosen = transport ?? .tcp
        do {
            if !looksLikeAddress || source.hasPrefix("sim://") {
                let inventory = try SiteLocator.load(site)
                let (core, _) = SiteSources.core(inventory, connectTimeout: .seconds(timeout), readTimeout: .seconds(timeout))
                if !looksLikeAddress {
                    if pictures { try refuseLiveInVideoprotection(inventory, command: "vigie view") }
                    guard let camera = inventory.camera(source) else {
                        printError("vigie: no camera `\(source)` in \(inventory.file)")
                        throw ExitCode(64)
                    }
                    url = stream == "sub" ? (camera.subURL ?? camera.mainURL) : camera.mainURL
                    chosen = transport ?? camera.transport
                }
                return (try core.openSource(url: url, transport: chosen, interrupt: interrupt), interrupt, url)
            }
            let options = DemuxerOptions(rtspTransport: chosen, connectTimeout: .seconds(timeout), readTimeout: .seconds(timeout))
            return (try DemuxerSource(url: url, options: options, interrupt: interrupt), interrupt, url)
        } catch let error as MediaError {
            printError(
                "vigie: cannot open \(Redaction.redactAddress(url)): \(error.kind == .timedOut ? "no answer within \(Int(timeout)) s" : error.message)")
            throw OpenedSource.exitCode(error, url: url)
        }
    }

    /// 66 for a file that is not there, 65 for one that is there but is no readable video
    /// (truncated, corrupt, no video stream), 69 for a source that cannot be reached.
    static func exitCode(_ error: MediaError, url: String) -> ExitCode {
        let local = !url.contains("://") || url.hasPrefix("file://")
        if local && error.code == FFmpegCode.posix(ENOENT) { return ExitCode(66) }
        if error.code == FFmpegCode.invalidData || error.kind == .noVideoStream || error.kind == .unsupportedCodec { return ExitCode(65) }
        if local && error.kind != .timedOut && error.kind != .cancelled { return ExitCode(65) }
        return ExitCode(69)
    }
}

/// The renderer of one picture fitted in a terminal area: sixel when asked or when the
/// terminal answers that it draws it, else block cells. Shared by `view` and `play`.
struct TerminalPicture {
    let renderer: any PictureRenderer
    let colorMode: ColorMode
    let modeName: String

    init(
        area: (columns: Int, rows: Int), videoWidth: Int, videoHeight: Int, graphics: String, colors: String, cellSize: String?,
        threshold: Int, toTerminal: Bool
    ) {
        let environment = ProcessInfo.processInfo.environment
        // Ask the terminal rather than guess from TERM, when something is left to "auto".
        let capabilities =
            toTerminal && (graphics == "auto" || colors == "auto" || (graphics == "sixel" && cellSize == nil))
            ? TerminalQuery.probe() : nil
        let blitter = Blitter(rawValue: graphics) ?? .half
        colorMode = ColorMode(rawValue: colors) ?? TerminalProbe.colorMode(
                environment: environment, capabilities: capabilities, terminfoDirectColour: TerminalQuery.terminfoDirectColour())
        let probedCell = capabilities?.cellSize(columns: area.columns, rows: area.rows) ?? (toTerminal ? TerminalQuery.cellPixelsFromKernel() : nil)
        let useSixel = graphics == "sixel" || (graphics == "auto" && capabilities?.sixel == true && probedCell != nil)
        let cell = cellSize.flatMap(View.parseSize) ?? probedCell.map { ($0.width, $0.height) } ?? (10, 20)
        // Fit the picture in the area, keeping its shape (cells are taller than wide).
        let aspect = Double(videoWidth) / Double(max(1, videoHeight))
        let areaWidth = Double(area.columns * cell.columns), areaHeight = Double(area.rows * cell.rows)
        let fitWidth = min(areaWidth, areaHeight * aspect), fitHeight = min(areaHeight, areaWidth / aspect)
        let columns = max(1, min(area.columns, Int((fitWidth / Double(cell.columns)).rounded())))
        let rows = max(1, min(area.rows, Int((fitHeight / Double(cell.rows)).rounded())))
        let originRow = (area.rows - rows) / 2, originColumn = (area.columns - columns) / 2
        if useSixel {
            renderer = SixelRenderer(
                pixelWidth: max(1, Int(fitWidth)), pixelHeight: max(1, Int(fitHeight)), cellWidth: cell.columns,
                cellHeight: cell.rows, originRow: originRow, originColumn: originColumn, threshold: threshold)
            modeName = "sixel \(renderer.pixelWidth)x\(renderer.pixelHeight) px"
        } else {
            renderer = CellRenderer(
                columns: columns, rows: rows, originRow: originRow, originColumn: originColumn, blitter: blitter,
                colorMode: colorMode, threshold: threshold)
            modeName = "\(columns)x\(rows) cells \(blitter.rawValue) \(colorMode.rawValue)"
        }
    }
}

/// Vidéoprotection: no live picture of a site camera, for anyone (`vigie probe` shows none).
func refuseLiveInVideoprotection(_ inventory: CameraInventory, command: String) throws {
    guard inventory.site.mode == .videoprotection else { return }
    printError("\(command): refused: \(inventory.site.name) is in vidéoprotection mode: no live view; recordings through a requisition (vigie requisition list)")
    throw ExitCode(77)
}
