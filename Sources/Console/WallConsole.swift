public import Foundation
import Logging
import Media
public import RecorderCore
public import Wall
public import Render
import ConsoleCore
import RecorderAPI

/// How the console draws pictures.
public struct ConsoleOptions: Sendable {
    /// auto, sextant, quadrant or half (sixel in the wall comes with terminal probing).
    public var graphics: String = "auto"
    public var colors: String = "auto"
    /// Who is at the console: the account's name (the Unix user in single-user mode).
    public var operatorName: String
    /// Whether the account may see a camera's pictures: cameras it may not are left out of
    /// pages, isolation, neighbours and lookups.
    public var mayView: @Sendable (String) -> Bool = { _ in true }
    /// Why the account may not play a camera's recordings back, or nil (said on screen and
    /// written to the audit log when refused).
    public var playbackRefusal: @Sendable (String) -> String? = { _ in nil }
    public var threshold: Int = 10
    /// How often the console looks for new pictures (and keys): twice the cameras' 25 frames
    /// a second, so that a picture arriving late or early (network jitter) is not replaced in
    /// its slot by the next one before it was drawn. Each new picture is drawn once.
    public var turnsPerSecond: Double = 50
    /// Where to write a summary when the console stops (frames per tile, bytes): benchmarks.
    public var statisticsPath: String?
    /// What the terminal said of itself (probed before ncurses starts), if it answered.
    public var capabilities: TerminalCapabilities?
    /// Largest picture output in bytes per second (thin links); nil: no cap.
    public var maxBytesPerSecond: Int?
    /// Start isolated on a camera's recordings at a time and speed (`vigie play`).
    public var startPlayback: (camera: String, at: Date, speed: Double)?
    /// With `startPlayback`: the other cameras of a synchronised wall (the technician's choice).
    public var synchronizeWith: [String] = []
    /// Vidéoprotection: no live tile at all, the requisitions' list first.
    public var opensOnRequisitions = false
    /// Why recordings are consulted (a requisition), for the audit log.
    public var reason: String?
    /// The requisition the recordings are consulted under (nil: whichever open one covers them).
    public var requisition: String?
    /// Why the console's session ended (revoked, expired, the account disabled), looked at
    /// each second; nil while it holds. Through a recorder only.
    public var sessionEnded: @Sendable () -> String? = { nil }

    public init(operatorName: String) { self.operatorName = operatorName }
}

/// The operators' console: a wall of live cameras zapping through the layout's pages,
/// one key to isolate a camera full-pane and come back.
///
/// One thread owns the terminal. ncurses draws the chrome (labels, status bar, help,
/// prompts) and reads keys; pictures are written by the renderers, after ncurses' update,
/// straight into the tile rectangles ncurses never writes to, between save and restore
/// cursor so ncurses' idea of the screen stays true.
public final class WallConsole {
    let core: RecorderCore
    /// The recordings (playback, REC marks), when the site has any: local or through the recorder.
    let recordings: (any ConsoleRecordings)?
    let facts: RecordingFacts?
    /// The investigation screen's calls to the recorder (analysis, search, thumbnails), when searching is possible here.
    let searchFacts: SearchFacts?
    /// The thumbnails' renderers of the investigation screen (one per row of results) and
    /// the passage each shows (nil: the empty place drawn).
    var searchThumbnails: [(renderer: any PictureRenderer, shown: Int64?)] = []
    /// What the investigation screen drew last (redrawn when what came back changes).
    var searchShown: (request: SearchRequest?, answered: SearchRequest?, status: AnalysisStatus?, thumbnails: Int, error: String?)?
    private var layout: WallLayout
    private let layoutPath: String?
    let options: ConsoleOptions
    private let audit: (any AuditSink)?
    let curses = Curses()
    private var scheduler: RotationScheduler
    private let timeZone: TimeZone
    private let blitter: Blitter
    let colorMode: ColorMode
    let clock: DateFormatter
    /// Cell size in pixels when the wall draws sixel, nil for block cells.
    var sixelCell: (width: Int, height: Int)?

    struct Tile {
        let cameraID: String
        let geometry: TileGeometry.Tile
        let renderer: any PictureRenderer
        /// Its live pictures (nil on a synchronised playback wall: recordings only).
        let subscription: FrameSubscription?
        /// The picture's shape the renderer was made for.
        let aspect: Double
        var lastSequence: UInt64 = 0
        /// While an isolated camera's main stream connects: its sub stream, scaled up.
        var standIn: FrameSubscription?
        var standInSequence: UInt64 = 0
        /// The last picture drawn, darkened under a NO SIGNAL banner.
        var lastPixels: [UInt8]?
        /// The banner the tile's state calls for, and the one on screen.
        var wantedBanner: String?
        var shownBanner: String?
    }

    typealias Mode = ConsoleState.Mode
    /// The console's state without its terminal: mode, overlay, selection, filter.
    var state = ConsoleState()
    var mode: Mode {
        get { state.mode }
        set { state.mode = newValue }
    }
    private var overlay: ConsoleState.Overlay { state.overlay }
    var selected: Int {
        get { state.selected }
        set { state.selected = newValue }
    }
    private var filter: ConsoleState.Filter? { state.filter }
    var tiles: [Tile] = []
    private var preloaded: [String: FrameSubscription] = [:]
    /// The shape of each camera stream's picture, once its stream said.
    private var knownAspects: [String: Double] = [:]
    /// The page whose cameras were connected ahead of its zap (done once per zap).
    private var preloadedPage: String?
    private var message: (text: String, until: Date)?
    /// What the person typed after R: a requisition number or a reason (see ConsultationRule).
    var consultation: String?
    /// The requisition opened from the `r` list (it wins over `--requisition`).
    var chosenRequisition: String?
    /// What recordings are consulted under: the requisition chosen, else the typed text (a
    /// requisition's number or a reason), else the command's options.
    var grounds: (reason: String?, requisition: String?) {
        if let chosenRequisition { return (nil, chosenRequisition) }
        if let consultation { return (consultation, nil) }
        return (options.reason, options.requisition)
    }
    /// The player whose failure was last said in the status line.
    private var reportedError: ObjectIdentifier?
    private var chromeDirty = true
    private var running = true
    private var layoutModified: Date?
    private var lastReloadCheck = Date.distantPast
    private let signals = ConsoleSignals()
    private let gridSizes = [(2, 2), (3, 3), (4, 4), (5, 5), (6, 6)]
    private var picturesDrawn = 0
    /// A zap under way: when its key was read (or its time came) and the tiles still without a picture.
    private var zap: (started: Double, waiting: Set<String>)?
    /// Seconds from each zap to every tile of the new page showing a picture (the statistics').
    private var zapDelays: [Double] = []
    /// Zaps that another one replaced before every tile showed a picture.
    private var zapsIncomplete = 0
    /// When the keys of this turn of the loop were read.
    private var turnStarted = 0.0
    private var pictureBytes = 0
    private var tileSeconds = 0.0
    private var budget: OutputBudget?
    /// Playback of the isolated camera's recordings; nil when it shows live.
    var player: Player?
    /// The synchronised wall's players (in tile order) and their clock.
    var synchronizedPlayers: [Player] = []
    var synchronizedClock: PlaybackClock?
    var playerSequence: UInt64 = 0
    /// The row above the status bar is kept for the playback timeline.
    var timelineRow = false
    /// Cameras with footage written in the last seconds (the REC mark), looked at each second.
    private var recording: Set<String> = []
    private let dateClock: DateFormatter

    public init(
        core: RecorderCore, recordings: (any ConsoleRecordings)?, layout: WallLayout, layoutPath: String?, options: ConsoleOptions,
        audit: (any AuditSink)?, search: (any ConsoleSearch)? = nil
    ) {
        self.core = core
        self.recordings = recordings
        facts = recordings.map { RecordingFacts(recordings: $0) }
        searchFacts = search.map { SearchFacts(service: $0) }
        self.layout = layout
        self.layoutPath = layoutPath
        self.options = options
        self.audit = audit
        timeZone = core.inventory.site.timeZone
        scheduler = RotationScheduler(layout: layout, timeZone: timeZone, now: Date())
        blitter = Blitter(rawValue: options.graphics) ?? .half
        let environment = ProcessInfo.processInfo.environment
        colorMode = ColorMode(rawValue: options.colors)
            ?? TerminalProbe.colorMode(
                environment: environment, capabilities: options.capabilities, terminfoDirectColour: TerminalQuery.terminfoDirectColour())
        clock = DateFormatter()
        clock.timeZone = timeZone
        clock.dateFormat = "HH:mm:ss"
        dateClock = DateFormatter()
        dateClock.timeZone = timeZone
        dateClock.dateFormat = "dd/MM/yyyy HH:mm:ss"
        if let layoutPath { layoutModified = WallConsole.modificationDate(layoutPath) }
        budget = options.maxBytesPerSecond.map { OutputBudget(bytesPerSecond: $0) }
    }

    /// Runs until the operator quits or a signal asks to stop; the terminal is restored in every case.
    /// Why the console stopped by itself (its session ended), after `run()`.
    public private(set) var endedBecause: String?

    public func run() {
        signals.install()
        curses.start()
        if options.graphics == "sixel" || (options.graphics == "auto" && options.capabilities?.sixel == true) {
            sixelCell = options.capabilities?.cellSize(columns: curses.columns, rows: curses.rows) ?? TerminalQuery.cellPixelsFromKernel()
            if sixelCell == nil && options.graphics == "sixel" { sixelCell = (10, 20) }
        }
        defer {
            for tile in tiles {
                tile.subscription?.cancel()
                tile.standIn?.cancel()
            }
            stopSynchronized()
            for subscription in preloaded.values { subscription.cancel() }
            stopPlayback()
            facts?.stop()
            searchFacts?.stop()
            writeRaw("\u{1B}[0m")
            curses.stop()
            record(.consoleStopped, detail: layout.name)
            writeStatistics()
        }
        record(.consoleStarted, detail: layout.name)
        if let start = options.startPlayback {
            mode = .isolated(cameraID: start.camera)
            rebuildTiles()
            startPlayback(at: start.at, speed: start.speed)
            if !options.synchronizeWith.isEmpty {
                let cameras = Array(([start.camera] + options.synchronizeWith.filter { $0 != start.camera }).prefix(ConsoleState.synchronizedLimit))
                mode = .synchronized(cameras: cameras)
                startSynchronized(cameras)
            }
        } else {
            rebuildTiles()
            // Vidéoprotection: no live view; the console opens on the requisitions.
            if options.opensOnRequisitions { state.overlay = .requisitions(search: false) }
        }
        let period = 1 / options.turnsPerSecond
        var deadline = MonotonicClock.seconds()
        let logger = Logger(label: "vigie.console")
        while running {
            let now = Date()
            let iterationStart = MonotonicClock.seconds()
            defer {
                let spent = MonotonicClock.seconds() - iterationStart
                if spent > 0.2 { logger.warning("console loop iteration took \(Int(spent * 1000)) ms") }
            }
            turnStarted = iterationStart
            while let key = curses.nextKey() { handle(key, now: now) }
            if signals.takeStop() { running = false }
            if signals.takeReload() {
                // SIGHUP is also what a closed terminal sends: then there is nobody left to show.
                if WallConsole.terminalIsGone() { running = false } else { reloadLayout(now: now, reason: "SIGHUP") }
            }
            if now.timeIntervalSince(lastReloadCheck) >= 1 {
                lastReloadCheck = now
                if WallConsole.terminalIsGone() { running = false }
                if let why = options.sessionEnded() {
                    endedBecause = why
                    running = false
                }
                checkLayoutFile(now: now)
                updateRecordingMarks(now: now)
                checkAspects()
                chromeDirty = true  // the clock and the countdown move every second
            }
            // Away from the wall (a camera isolated, a filter), its page keeps its time.
            scheduler.setHeld(mode != .wall || filter != nil, now: now)
            if mode == .wall && filter == nil, let change = scheduler.tick(now: now) {
                if case .windowChanged(let window, _) = change {
                    showMessage("schedule: \(window ?? "default rotation")", now: now)
                }
                rebuildTiles()
            }
            preload(now: now)
            if searchChanged() { chromeDirty = true }
            if chromeDirty {
                drawChrome(now: now)
                chromeDirty = false
            }
            drawPictures()
            tileSeconds += Double(tiles.count) * period
            deadline += period
            let sleep = deadline - MonotonicClock.seconds()
            if sleep > 0 {
                usleep(UInt32(sleep * 1_000_000))
            } else if sleep < -1 {
                deadline = MonotonicClock.seconds()  // fell far behind (slow link): never catch up in a burst
            }
        }
    }

    // MARK: - Tiles

    private var visibleCameras: [String] {
        switch mode {
        case .isolated(let id): return [id]
        case .synchronized(let cameras): return cameras
        case .wall: return (filter?.ids ?? scheduler.current.cameraIDs).filter(options.mayView)
        }
    }

    private var grid: (columns: Int, rows: Int) {
        if case .isolated = mode { return (1, 1) }
        if case .synchronized(let cameras) = mode {
            let columns = cameras.count <= 1 ? 1 : cameras.count <= 4 ? 2 : 3
            return (columns, (cameras.count + columns - 1) / columns)
        }
        return (scheduler.layout.columns, scheduler.layout.rows)
    }

    /// The renderer of a tile: the picture fitted in the tile in its own shape (16:9 until
    /// the camera's is known), centred.
    func renderer(for picture: CellRect, aspect: Double = 16.0 / 9.0) -> any PictureRenderer {
        if let cell = sixelCell {
            let fit = PictureFit.pixels(in: picture, aspect: aspect, cellWidth: cell.width, cellHeight: cell.height)
            return SixelRenderer(
                pixelWidth: fit.width, pixelHeight: fit.height, cellWidth: cell.width, cellHeight: cell.height, originRow: fit.cells.row,
                originColumn: fit.cells.column, threshold: options.threshold)
        }
        let fit = PictureFit.cells(in: picture, aspect: aspect)
        return CellRenderer(
            columns: fit.columns, rows: fit.rows, originRow: fit.row, originColumn: fit.column, blitter: blitter, colorMode: colorMode,
            threshold: options.threshold)
    }

    /// The shape a camera's picture is shown in, once its stream said (sample aspect ratio
    /// applied); 16:9 before.
    private func aspect(of cameraID: String, isolated: Bool) -> Double {
        let stream: StreamChoice = isolated ? .main : .sub
        let key = "\(cameraID)/\(stream)"
        // Kept once known: a camera that is lost keeps its shape (and its last picture).
        if let known = core.feed(camera: cameraID, stream: stream)?.status.displayAspect
            ?? (isolated ? core.feed(camera: cameraID, stream: .sub)?.status.displayAspect : nil)
        {
            knownAspects[key] = known
        }
        return knownAspects[key] ?? 16.0 / 9.0
    }

    /// Rebuilds the tiles whose camera turned out to have another shape than the one drawn.
    private func checkAspects() {
        let isolated = mode != .wall
        if tiles.contains(where: { abs(aspect(of: $0.cameraID, isolated: isolated) / $0.aspect - 1) > 0.02 }) { rebuildTiles() }
    }

    func rebuildTiles() {
        let old = tiles
        curses.updateSize()
        // In playback the row above the status bar holds the timeline.
        let geometry = TileGeometry(
            screenColumns: curses.columns, screenRows: curses.rows - (timelineRow ? 1 : 0),
            gridColumns: grid.columns, gridRows: grid.rows)
        var fresh: [Tile] = []
        // An isolated camera is shown from its main stream, whatever the pane's size.
        var isolated = false
        if case .isolated = mode { isolated = true }
        var synchronized = false
        if case .synchronized = mode { synchronized = true }
        for (index, cameraID) in visibleCameras.prefix(geometry.tiles.count).enumerated() {
            let place = geometry.tiles[index]
            guard place.picture.rows > 0, place.picture.columns > 0 else { continue }
            let shape = aspect(of: cameraID, isolated: isolated || synchronized)
            let renderer = renderer(for: place.picture, aspect: shape)
            if synchronized {
                // Recordings only: no live stream is opened for a synchronised wall.
                fresh.append(Tile(cameraID: cameraID, geometry: place, renderer: renderer, subscription: nil, aspect: shape))
                continue
            }
            if isolated && !options.mayView(cameraID) {
                // Recordings without live (vidéoprotection): the camera's stream is not opened.
                fresh.append(Tile(cameraID: cameraID, geometry: place, renderer: renderer, subscription: nil, aspect: shape))
                continue
            }
            let subscription: FrameSubscription
            if !isolated, let reused = preloaded.removeValue(forKey: "\(cameraID)@\(renderer.pixelWidth)x\(renderer.pixelHeight)") {
                subscription = reused
            } else if let existing = old.first(where: {
                $0.cameraID == cameraID && (!isolated || $0.subscription?.stream == "main") && $0.renderer.pixelWidth == renderer.pixelWidth && $0.renderer.pixelHeight == renderer.pixelHeight
            }) {
                subscription = existing.subscription!
            } else if let made = core.subscribeFrames(
                camera: cameraID, width: renderer.pixelWidth, height: renderer.pixelHeight, stream: isolated ? .main : nil)
            {
                subscription = made
            } else {
                continue
            }
            var tile = Tile(cameraID: cameraID, geometry: place, renderer: renderer, subscription: subscription, aspect: shape)
            if isolated, subscription.latest() == nil {
                // The main stream takes a moment to connect: show the sub stream meanwhile.
                tile.standIn = core.feed(camera: cameraID, stream: .sub)?.subscribeFrames(
                    width: renderer.pixelWidth, height: renderer.pixelHeight)
            }
            fresh.append(tile)
        }
        for tile in old {
            tile.standIn?.cancel()
            if let old = tile.subscription, !fresh.contains(where: { $0.subscription === old }) { old.cancel() }
        }
        // A new page of the wall: how long until every tile shows a picture.
        let shown = Set(fresh.map(\.cameraID))
        if !isolated, shown != Set(old.map(\.cameraID)), !shown.isEmpty {
            if zap != nil && !zapDelays.isEmpty { zapsIncomplete += 1 }
            zap = (turnStarted > 0 ? turnStarted : MonotonicClock.seconds(), shown)
        } else if isolated {
            zap = nil
        }
        tiles = fresh
        preloadedPage = nil
        selected = min(selected, max(0, tiles.count - 1))
        curses.clearAll()
        forgetSearchThumbnails()
        chromeDirty = true
    }

    /// Connects the next page's cameras a moment before it is due, so a zap shows pictures at once.
    private func preload(now: Date) {
        guard mode == .wall, filter == nil, let next = scheduler.upcoming(now: now, lead: 2.5), next.name != preloadedPage else {
            return
        }
        preloadedPage = next.name
        let geometry = TileGeometry(screenColumns: curses.columns, screenRows: curses.rows, gridColumns: grid.columns, gridRows: grid.rows)
        // As the page will show them: only the cameras the account may watch (none in vidéoprotection).
        for (index, cameraID) in next.cameraIDs.filter(options.mayView).prefix(geometry.tiles.count).enumerated() {
            let renderer = renderer(for: geometry.tiles[index].picture, aspect: aspect(of: cameraID, isolated: false))
            let key = "\(cameraID)@\(renderer.pixelWidth)x\(renderer.pixelHeight)"
            if preloaded[key] == nil && !tiles.contains(where: { $0.cameraID == cameraID }) {
                preloaded[key] = core.subscribeFrames(camera: cameraID, width: renderer.pixelWidth, height: renderer.pixelHeight)
            }
        }
    }

    private func drawPictures() {
        if overlay == .help { return }
        if case .neighbours = overlay { return }  // the list stays readable over the pictures
        if case .requisitions = overlay { return }
        if case .search = overlay { return drawSearchThumbnails() }
        let now = MonotonicClock.seconds()
        if budget != nil && !budget!.allows(now: now) { return }  // over --max-rate: skip, never queue
        var buffer = VTBuffer(colorMode: colorMode)
        for index in tiles.indices {
            if tiles[index].wantedBanner != tiles[index].shownBanner {
                if let banner = tiles[index].wantedBanner {
                    tiles[index].renderer.drawBanner(banner, over: tiles[index].lastPixels, into: &buffer)
                }
                tiles[index].shownBanner = tiles[index].wantedBanner
            }
            var frame: LiveFrame? = nil
            if case .synchronized = mode {
                if index < synchronizedPlayers.count, let latest = synchronizedPlayers[index].latest(), latest.sequence != tiles[index].lastSequence {
                    tiles[index].lastSequence = latest.sequence
                    frame = latest
                }
            } else if let player {
                if let latest = player.latest(), latest.sequence != playerSequence {
                    playerSequence = latest.sequence
                    frame = latest
                }
            } else if let latest = tiles[index].subscription?.latest() {
                if let standIn = tiles[index].standIn {
                    standIn.cancel()  // the main stream is here
                    tiles[index].standIn = nil
                }
                if latest.sequence != tiles[index].lastSequence {
                    tiles[index].lastSequence = latest.sequence
                    frame = latest
                }
            } else if let standIn = tiles[index].standIn, let latest = standIn.latest(), latest.sequence != tiles[index].standInSequence {
                tiles[index].standInSequence = latest.sequence
                frame = latest
            }
            guard let frame, frame.image.width == tiles[index].renderer.pixelWidth,
                frame.image.height == tiles[index].renderer.pixelHeight
            else { continue }
            if tiles[index].shownBanner != nil {
                // Pictures again: the state is looked at anew before the banner goes.
                chromeDirty = true
                continue
            }
            tiles[index].renderer.draw(pixels: frame.image.pixels, into: &buffer)
            tiles[index].lastPixels = frame.image.pixels
            picturesDrawn += 1
            if zap != nil {
                zap!.waiting.remove(tiles[index].cameraID)
                if zap!.waiting.isEmpty {
                    zapDelays.append(now - zap!.started)
                    zap = nil
                }
            }
        }
        guard !buffer.bytes.isEmpty else { return }
        buffer.resetAttributes()
        pictureBytes += buffer.bytes.count + 20
        budget?.spend(buffer.bytes.count + 20, now: now)
        writeRaw("\u{1B}7\u{1B}[?2026h" + String(decoding: buffer.drain(), as: UTF8.self) + "\u{1B}[?2026l\u{1B}8")
    }

    func writeRaw(_ text: String) {
        let data = Array(text.utf8)
        var offset = 0
        while offset < data.count {
            let written = data[offset...].withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written <= 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                running = false  // the terminal went away (EIO after a hangup)
                return
            }
            offset += written
        }
    }

    // MARK: - Chrome

    private func drawChrome(now: Date) {
        if case .search(let screen) = overlay {
            drawSearchScreen(screen)
            drawStatusBar(now: now)
            curses.refresh()
            return
        }
        let statuses = Dictionary(core.statuses().map { ("\($0.cameraID)/\($0.stream)", $0) }, uniquingKeysWith: { a, _ in a })
        for (index, tile) in tiles.enumerated() {
            let camera = core.inventory.camera(tile.cameraID)
            let status = statuses["\(tile.cameraID)/\(tile.subscription?.stream ?? "")"]
            let state = tile.subscription == nil ? .live(since: now) : status?.state ?? .connecting(since: now)
            var stateText = ""
            var synchronized = false
            if case .synchronized = mode { synchronized = true }
            var style: Curses.Style = index == selected && (mode == .wall || synchronized) ? .selected : .label
            var banner: String? = nil
            switch state {
            case .live: stateText = ""
            case .connecting, .stopped:
                stateText = "CONNECTING · "
                if tile.lastPixels == nil && tile.subscription?.latest() == nil && tile.standIn?.latest() == nil {
                    banner = "CONNECTING"
                }
            case .lost(let since, _, _), .reconnecting(let since, _, _):
                stateText = "NO SIGNAL since \(clock.string(from: since)) · "
                style = .warning
                // As much as the picture's width holds, never cut in a word.
                let time = clock.string(from: since)
                banner = ["NO SIGNAL since \(time)", "NO SIGNAL \(time)", "NO SIGNAL"].first { $0.count + 2 <= tile.renderer.columns } ?? "NO SIGNAL"
            }
            tiles[index].wantedBanner = banner
            if recording.contains(tile.cameraID) { stateText = "● REC · " + stateText }
            if let player = synchronized ? (index < synchronizedPlayers.count ? synchronizedPlayers[index] : nil) : player {
                // Recorded footage: said first and in its own colour, so nobody takes it for live.
                var state = player.current
                if let clock = player.clock {
                    // Driven together: the wall's time, speed and pause.
                    if state.gap || state.ended { state.position = clock.now() }
                    state.speed = clock.speed
                    state.paused = clock.paused
                }
                var parts = ["PLAYBACK \(dateClock.string(from: state.position))"]
                if state.speed != 1 { parts.append("×\(Player.speedText(state.speed))") }
                if state.paused { parts.append("PAUSED") }
                if state.ended { parts.append(state.error.map { "ERROR \($0)" } ?? "NO FOOTAGE") } else if state.gap { parts.append("NO FOOTAGE") }
                if state.ended, let error = state.error, reportedError != ObjectIdentifier(player) {
                    // Said once in the status line too (the label is cut in a narrow pane).
                    reportedError = ObjectIdentifier(player)
                    let refused = error.contains("requisition") || error.contains("refused")
                    // "…the recorder refused the stream: WHY": WHY, and what to do.
                    let why = error.range(of: "refused").flatMap { error.range(of: ": ", range: $0.upperBound..<error.endIndex) }.map { String(error[$0.upperBound...]) } ?? error
                    showMessage(refused ? "refused: \(why) (R: a requisition or a reason)" : error, now: Date())
                }
                stateText = parts.joined(separator: " ") + " · "
                if !(synchronized && index == selected) { style = .playback }
                if synchronized && (state.gap || state.ended) {
                    // Nothing recorded at the wall's time: said over an empty tile, never the last picture frozen.
                    tiles[index].lastPixels = nil
                    tiles[index].wantedBanner = "NO FOOTAGE"
                } else {
                    tiles[index].wantedBanner = state.ended && tile.lastPixels == nil ? "NO FOOTAGE" : nil
                }
            }
            // The state first: a narrow tile cuts the end of its label, never the state.
            let name = "\(camera?.number ?? 0) \(camera?.name ?? tile.cameraID) — \(camera?.location ?? "")"
            curses.put(stateText + name, row: tile.geometry.label.row, column: tile.geometry.label.column, width: tile.geometry.label.columns, style: style)
        }
        drawTimeline()
        drawStatusBar(now: now)
        drawOverlay()
        curses.refresh()
    }

    private func drawStatusBar(now: Date) {
        var parts: [String] = [scheduler.layout.name]
        switch mode {
        case .synchronized(let cameras):
            let focus = cameras[min(selected, cameras.count - 1)]
            let camera = core.inventory.camera(focus)
            parts.append(
                "SYNCHRONISED PLAYBACK \(cameras.count) cameras, focus \(camera?.number ?? 0) \(camera?.name ?? focus) — arrows: focus, N: swap for a neighbour, Esc: this camera alone")
        case .isolated(let id):
            let camera = core.inventory.camera(id)
            if player != nil {
                parts.append("PLAYBACK \(camera?.number ?? 0) \(camera?.name ?? id) — [ ] ±10 s, { } ±1 min, t time, Space pause, + - speed, . step, L live")
            } else {
                parts.append("ISOLATED \(camera?.number ?? 0) \(camera?.name ?? id) — Esc: back, ←/→: cameras, N: neighbours, [ rewind, t time")
            }
        case .wall where options.opensOnRequisitions:
            parts.append("VIDÉOPROTECTION — no live view; r: the requisitions")
        case .wall:
            if let filter {
                parts.append("filter \"\(filter.text)\": \(filter.ids.count) cameras — Esc clears")
            } else {
                let position = scheduler.position
                parts.append("page \(position.page)/\(position.of) \(scheduler.current.name)")
                if let window = scheduler.window { parts.append(window) }
                if scheduler.paused {
                    parts.append("PAUSED")
                } else if let next = scheduler.secondsToNextZap(now: now) {
                    parts.append("zap in \(Int(next.rounded(.up)))s")
                }
            }
        }
        parts.append("op: \(options.operatorName)")
        parts.append(clock.string(from: now))
        if let message, message.until > now {
            // A message comes before the key hints when the line is too narrow for both.
            let line = " " + (parts + [message.text, "? help"]).joined(separator: " │ ")
            if line.count > curses.columns, parts.count > 2 {
                var short = parts
                if let hint = short[1].range(of: " — ") { short[1] = String(short[1][..<hint.lowerBound]) }
                parts = short
            }
            parts.append(message.text)
        }
        parts.append("? help")
        curses.put(" " + parts.joined(separator: " │ "), row: curses.rows - 1, column: 0, width: curses.columns, style: .status)
    }

    /// At most 74 columns each: the help fits an 80-column terminal whole.
    static let helpLines = [
        "Vigie — keys",
        "",
        "arrows, h j k l   move the selection",
        "Enter, i          isolate the selected camera (full pane, main stream)",
        "Esc, Backspace    back to the wall, same page",
        "Space             pause / resume the rotation",
        "n, PgDn           next page          p, PgUp   previous page",
        ":                 isolate a camera by id or number",
        "/                 show cameras whose name contains a text",
        "g                 next grid size",
        "← →  (isolated)   previous / next camera",
        "N    (isolated)   choose a neighbouring camera by its key (follow someone)",
        "[ ]  (isolated)   recordings: back / forward 10 s ({ } one minute)",
        "t    (isolated)   recordings at a date and time (local)",
        "W    (playback)   the camera and its neighbours at the same time, driven",
        "                  together: arrows move the focus, N swaps it for a",
        "                  neighbour, Esc leaves it alone",
        "R                 the requisition (its number) recordings are consulted",
        "                  under, or a reason",
        "r                 the requisitions open to consultation: play one's",
        "                  footage by its key",
        "S                 investigation of a requisition: analyse its footage,",
        "                  search by class and colour (c o x), f follow the",
        "                  selected vehicle across the cameras, Enter plays it",
        "                  there with its neighbours, a / s start / stop analysis",
        "Space + - .       in playback: pause, faster, slower, one frame",
        "L                 back to live",
        "mouse             click selects, double click isolates",
        "q                 quit (asks first)",
        "?                 this help (any key closes it)",
    ]

    private func drawOverlay() {
        switch overlay {
        case .none: return
        case .help:
            let longest = WallConsole.helpLines.map(\.count).max() ?? 0
            let width = min(curses.columns - 4, longest + 4), top = max(0, (curses.rows - WallConsole.helpLines.count - 2) / 2)
            let left = max(0, (curses.columns - width) / 2)
            curses.put("", row: top, column: left, width: width, style: .status)
            for (offset, line) in WallConsole.helpLines.enumerated() {
                curses.put("  " + line, row: top + 1 + offset, column: left, width: width, style: offset == 0 ? .status : .normal)
            }
            curses.put("", row: top + 1 + WallConsole.helpLines.count, column: left, width: width, style: .status)
        case .confirmQuit:
            curses.put(" Quit Vigie? y / n ", row: curses.rows - 1, column: 0, width: curses.columns, style: .warning)
        case .neighbours(let of, let ids):
            let name = core.inventory.camera(of)?.name ?? of
            let lines = ["Neighbours of \(name): press the key (Esc: stay)"] + ids.enumerated().map { index, id in
                let camera = core.inventory.camera(id)
                return "\(ConsoleState.choiceKeys[index])  \(camera.map { "\($0.number) \($0.name) — \($0.location)" } ?? id)"
            }
            let width = min(curses.columns - 2, max(40, (lines.map(\.count).max() ?? 0) + 4))
            let top = max(0, curses.rows - 2 - lines.count), left = max(0, (curses.columns - width) / 2)
            for (offset, line) in lines.enumerated() {
                curses.put("  " + line, row: top + offset, column: left, width: width, style: offset == 0 ? .status : .normal)
            }
        case .search:
            return  // the whole screen, drawn by drawSearchScreen
        case .requisitions(let search):
            let zone = core.inventory.site.timeZone
            let (list, error) = facts?.requisitions(wanted: true) ?? (nil, "no recordings here")
            var lines = [search ? "Investigate which requisition? press its key (Esc: close)" : "Requisitions open to consultation: press the key to play its footage (Esc: close)"]
            if let list {
                if list.isEmpty { lines.append("no requisition is open (vigie requisition add)") }
                for (index, item) in list.prefix(ConsoleState.choiceKeys.count).enumerated() {
                    let cameras = item.cameras.isEmpty ? "all cameras" : item.cameras.count == 1 ? item.cameras[0] : "\(item.cameras.count) cameras"
                    lines.append(
                        "\(ConsoleState.choiceKeys[index])  \(item.number)  \(item.status)  \(item.authority)  \(cameras)  \(LocalTime.format(item.from, timeZone: zone)) to \(LocalTime.format(item.to, timeZone: zone))")
                }
            } else {
                lines.append(error.map { "cannot read them: \($0)" } ?? "asking…")
            }
            let width = min(curses.columns - 2, max(50, (lines.map(\.count).max() ?? 0) + 4))
            let top = max(0, (curses.rows - lines.count) / 2), left = max(0, (curses.columns - width) / 2)
            for (offset, line) in lines.enumerated() {
                curses.put("  " + line, row: top + offset, column: left, width: width, style: offset == 0 ? .status : .normal)
            }
        case .prompt(let kind, let text):
            let label =
                switch kind {
                case ":": " camera (id or number): "
                case "t": " date and time (YYYY-MM-DD HH:MM:SS): "
                case "R": " requisition number, or why (outside any requisition): "
                default: " name contains: "
                }
            curses.put(label + text + "▏", row: curses.rows - 1, column: 0, width: curses.columns, style: .status)
        }
    }

    func showMessage(_ text: String, now: Date) {
        message = (text, now.addingTimeInterval(8))
        chromeDirty = true
    }

    // MARK: - Keys

    /// A key: the state decides, the console carries the actions out.
    private func handle(_ key: Curses.Key, now: Date) {
        chromeDirty = true
        let given: ConsoleKey
        switch key {
        case .character(let character): given = .character(character)
        case .up: given = .up
        case .down: given = .down
        case .left: given = .left
        case .right: given = .right
        case .enter: given = .enter
        case .escape: given = .escape
        case .backspace: given = .backspace
        case .pageUp: given = .pageUp
        case .pageDown: given = .pageDown
        case .resize: given = .resize
        case .click(let row, let column, let double):
            let geometry = TileGeometry(screenColumns: curses.columns, screenRows: curses.rows, gridColumns: grid.columns, gridRows: grid.rows)
            guard let index = geometry.tile(atRow: row, column: column) else { return }
            given = .clickTile(index: index, double: double)
        }
        var context = ConsoleState.Context(
            now: now, tiles: tiles.map(\.cameraID), gridColumns: grid.columns, inventory: core.inventory, mayView: options.mayView,
            playbackPaused: synchronizedClock.map { $0.paused } ?? player?.current.paused)
        if case .requisitions = overlay { context.requisitions = facts?.requisitions(wanted: true).list }
        context.currentRequisition = currentRequisition
        if case .search(let screen) = overlay {
            let reply = searchList(screen)
            context.searchResults = reply?.passages
            context.searchRoute = reply?.route
            context.searchRows = searchLayout.count
        }
        let playbackRefusal = options.playbackRefusal
        context.mayPlay = { playbackRefusal($0) == nil }
        for action in state.handle(given, context) { perform(action, now: now) }
    }

    private func perform(_ action: ConsoleAction, now: Date) {
        switch action {
        case .quit: running = false
        case .rebuildTiles:
            rebuildTiles()
            fitPlayers()
        case .redrawAll: rebuildAfterOverlay()
        case .clearScreen:
            curses.clearAll()
            forgetSearchThumbnails()
        case .isolate(let camera, let detail): isolate(camera, detail: detail)
        case .returnToWall(let from): returnToWall(from: from)
        case .startPlayback(let time): startPlayback(at: time, speed: 1)
        case .seekPlaybackBy(let seconds) where synchronizedClock != nil: seekSynchronized(to: synchronizedClock!.now().addingTimeInterval(seconds))
        case .seekPlaybackTo(let time) where synchronizedClock != nil: seekSynchronized(to: time)
        case .togglePlaybackPause where synchronizedClock != nil:
            synchronizedClock?.togglePause()
            for player in synchronizedPlayers { player.nudge() }
        case .changePlaybackSpeed(let step) where synchronizedClock != nil:
            synchronizedClock?.changeSpeed(by: step)
            for player in synchronizedPlayers { player.nudge() }
        case .stepPlayback where synchronizedClock != nil:
            synchronizedClock?.step(seconds: 1 / 25)
            for player in synchronizedPlayers { player.nudge() }
        case .seekPlaybackBy(let seconds): player?.seek(by: seconds)
        case .seekPlaybackTo(let time): player?.seek(to: time)
        case .togglePlaybackPause: player?.togglePause()
        case .changePlaybackSpeed(let step): player?.changeSpeed(by: step)
        case .stepPlayback: player?.step()
        case .synchronize(let cameras): startSynchronized(cameras)
        case .openRequisition(let number, let cameras, let at):
            chosenRequisition = number
            consultation = nil
            stopPlayback()
            stopSynchronized()
            record(.isolated, cameraID: cameras.count == 1 ? cameras[0] : nil, detail: "requisition \(number) opened")
            if cameras.count == 1 {
                rebuildTiles()
                startPlayback(at: at, speed: 1)
            } else {
                startSynchronized(cameras, at: at, speed: 1)
            }
        case .swapSynchronized(let index, let camera): swapSynchronized(index, camera)
        case .leaveSynchronized(let camera):
            let (time, speed, paused) = (synchronizedClock?.now(), synchronizedClock?.speed ?? 1, synchronizedClock?.paused ?? false)
            stopSynchronized()
            record(.isolated, cameraID: camera, detail: "from the synchronised wall")
            rebuildTiles()
            if let time {
                startPlayback(at: time, speed: speed)
                if paused { player?.togglePause() }
            }
        case .backToLive:
            stopPlayback()
            rebuildTiles()
            showMessage("live", now: now)
        case .toggleRotation:
            scheduler.togglePause(now: now)
            record(scheduler.paused ? .rotationPaused : .rotationResumed, detail: scheduler.current.name)
        case .nextPage:
            scheduler.next(now: now)
            record(.pageChanged, detail: "next: \(scheduler.current.name)")
            rebuildTiles()
        case .previousPage:
            scheduler.previous(now: now)
            record(.pageChanged, detail: "previous: \(scheduler.current.name)")
            rebuildTiles()
        case .nextGrid:
            let current = gridSizes.firstIndex { $0.0 == scheduler.layout.columns && $0.1 == scheduler.layout.rows } ?? -1
            let next = gridSizes[(current + 1) % gridSizes.count]
            scheduler.replaceLayout(scheduler.layout.withGrid(columns: next.0, rows: next.1), now: now)
            showMessage("grid \(next.0)x\(next.1)", now: now)
            rebuildTiles()
        case .message(let text): showMessage(text, now: now)
        case .startAnalysis(let number):
            guard let searchFacts else { return showMessage("search is not possible here: no recordings", now: now) }
            searchFacts.command(requisition: number, start: true)
            showMessage("analysis of requisition \(number) asked for", now: now)
        case .stopAnalysis(let number):
            searchFacts?.command(requisition: number, start: false)
            showMessage("analysis of requisition \(number): stop asked for (it resumes where it stopped)", now: now)
        case .consultUnder(let text):
            consultation = text.isEmpty ? nil : text
            chosenRequisition = nil
            showMessage(text.isEmpty ? "recordings: consulted under the requisition that covers them" : "recordings consulted under: \(text)", now: now)
            replayUnderNewGrounds()
        }
    }

    private func rebuildAfterOverlay() {
        curses.clearAll()
        forgetSearchThumbnails()
        for tile in tiles { tile.renderer.invalidate() }
        for index in tiles.indices {
            tiles[index].lastSequence = 0
            tiles[index].standInSequence = 0
            tiles[index].shownBanner = nil
        }
    }

    /// The camera full pane (the state chose it and set the mode). In playback, the next
    /// camera plays at the same time (following someone street by street).
    private func isolate(_ cameraID: String, detail: String? = nil) {
        let playing = player.map { ($0.current.position, $0.current.speed) }
        stopPlayback()
        record(.isolated, cameraID: cameraID, detail: detail)
        rebuildTiles()
        if let playing { startPlayback(at: playing.0, speed: playing.1) }
    }

    private func returnToWall(from id: String) {
        stopPlayback()
        record(.returnedToWall, cameraID: id)
        rebuildTiles()
    }

    /// Which visible cameras the recorder is writing now (footage written in the last
    /// seconds), as the background fetch last found.
    private func updateRecordingMarks(now: Date) {
        guard let facts else { return }
        facts.want(cameras: tiles.map(\.cameraID), timeline: player.map { ($0.camera, $0.current.position) })
        recording = facts.marks
    }

    private let started = MonotonicClock.seconds()

    private func writeStatistics() {
        guard let path = options.statisticsPath else { return }
        let seconds = MonotonicClock.seconds() - started
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
        let text = String(
            format: "seconds=%.1f pictures=%d tile_seconds=%.1f frames_per_tile_per_s=%.2f picture_bytes=%d bytes_per_s=%.0f cpu_s=%.2f\n",
            seconds, picturesDrawn, tileSeconds, Double(picturesDrawn) / max(1, tileSeconds), pictureBytes,
            Double(pictureBytes) / max(1, seconds), cpu)
            + (budget.map { "max_rate=\(Int($0.bytesPerSecond)) frames_skipped_for_rate=\($0.skipped)\n" } ?? "")
            + (zapDelays.isEmpty ? "" : WallConsole.zapLine(zapDelays) + "zaps_incomplete=\(zapsIncomplete)\n")
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// "zaps=N zap_p50_ms=... zap_p95_ms=... zap_max_ms=..." (the first zap, the wall's opening, left out).
    static func zapLine(_ delays: [Double]) -> String {
        let sorted = delays.dropFirst().sorted()
        guard !sorted.isEmpty else { return "" }
        func at(_ share: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count) * share).rounded(.up)) - 1)] * 1000 }
        return String(format: "zaps=%d zap_p50_ms=%.0f zap_p95_ms=%.0f zap_max_ms=%.0f\n", sorted.count, at(0.5), at(0.95), sorted.last! * 1000)
            + "zap_ms=" + delays.dropFirst().map { String(Int(($0 * 1000).rounded())) }.joined(separator: ",") + "\n"
    }

    // MARK: - Layout reload and audit

    private func checkLayoutFile(now: Date) {
        guard let layoutPath, let modified = WallConsole.modificationDate(layoutPath), modified != layoutModified else { return }
        layoutModified = modified
        reloadLayout(now: now, reason: "file changed")
    }

    private func reloadLayout(now: Date, reason: String) {
        guard let layoutPath else { return }
        do {
            let (fresh, _) = try WallLayout.load(path: layoutPath, inventory: core.inventory)
            layout = fresh
            scheduler.replaceLayout(fresh, now: now)
            showMessage("layout reloaded (\(reason))", now: now)
            record(.layoutReloaded, detail: "\(layoutPath): \(reason)")
            rebuildTiles()
        } catch {
            let first = error.errors.first?.description ?? "invalid"
            showMessage("layout NOT reloaded, keeping the old one: \(first)", now: now)
            record(.layoutRejected, detail: first)
        }
    }

    /// True when the terminal was closed under the console (its window or SSH link is gone).
    static func terminalIsGone() -> Bool {
        var attributes = termios()
        if tcgetattr(STDIN_FILENO, &attributes) != 0 { return true }
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        if fd < 0 { return true }
        close(fd)
        return false
    }

    static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    func record(
        _ action: OperatorEvent.Action, cameraID: String? = nil, detail: String? = nil, from: Date? = nil, to: Date? = nil
    ) {
        audit?.record(
            OperatorEvent(
                who: options.operatorName, action: action, cameraID: cameraID, detail: detail, from: from, to: to,
                reason: action == .playback ? options.reason : nil, requisition: action == .playback ? options.requisition : nil))
    }
}

/// SIGINT and SIGTERM stop the console cleanly; SIGHUP reloads the layout. The handlers
/// only set latches; the console's loop takes them.
final class ConsoleSignals {
    private let stop = SignalLatch()
    private let reload = SignalLatch()
    private var sources: [any DispatchSourceSignal] = []

    func install() {
        for (number, latch) in [(SIGINT, stop), (SIGTERM, stop), (SIGHUP, reload)] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { latch.set() }
            source.resume()
            sources.append(source)
        }
    }

    func takeStop() -> Bool { stop.take() }
    func takeReload() -> Bool { reload.take() }
}

import Synchronization

final class SignalLatch: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    func take() -> Bool { value.exchange(false, ordering: .acquiringAndReleasing) }
}
