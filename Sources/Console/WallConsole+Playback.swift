import ConsoleCore
import Foundation
import Media
import RecorderAPI
import RecorderCore
import Render
import Wall

/// Playback in the console: one camera's recordings full pane, the synchronised wall of
/// several cameras at one recorded time, and the timeline under them.
extension WallConsole {
    // MARK: - Playback

    /// Plays the isolated camera's recordings from `time`: the pane leaves live for the recorder's footage.
    func startPlayback(at time: Date, speed: Double) {
        guard case .isolated(let id) = mode else { return }
        if let refusal = options.playbackRefusal(id) {
            showMessage("refused: \(refusal)", now: Date())
            record(.accessRefused, cameraID: id, detail: "play recordings back: \(refusal)", from: time)
            return
        }
        guard let recordings else {
            showMessage("no recordings for this site (start `vigie record`)", now: Date())
            return
        }
        stopPlayback()
        // The pane loses a row to the timeline: lay out first, then size the player to the picture.
        timelineRow = true
        rebuildTiles()
        guard let tile = tiles.first else {
            timelineRow = false
            return
        }
        do {
            player = try makePlayer(recordings, camera: id, tile: tile, at: time, speed: speed)
            playerSequence = 0
            if recordings.consoleAuditsPlayback { record(.playback, cameraID: id, detail: "opened", from: time) }
        } catch {
            player = nil
            timelineRow = false
            rebuildTiles()
            showMessage("cannot play: \(error)", now: Date())
        }
    }

    // MARK: - Synchronised playback

    /// The cameras' recordings at the isolated playback's time, driven together by one clock.
    func startSynchronized(_ cameras: [String], at time: Date? = nil, speed: Double? = nil) {
        guard let recordings, let start = time ?? player?.current.position else { return }
        let pace = speed ?? player?.current.speed ?? 1
        for camera in cameras where options.playbackRefusal(camera) != nil {
            let refusal = options.playbackRefusal(camera) ?? ""
            showMessage("refused: \(refusal)", now: Date())
            record(.accessRefused, cameraID: camera, detail: "play recordings back: \(refusal)", from: start)
        }
        let allowed = cameras.filter { options.playbackRefusal($0) == nil }
        guard !allowed.isEmpty else {
            // Nothing to play: stay where the console was.
            if case .synchronized = mode { mode = player.map { .isolated(cameraID: $0.camera) } ?? .wall }
            rebuildTiles()
            return
        }
        mode = .synchronized(cameras: allowed)
        stopPlayback()
        // The focused camera's timeline under the wall.
        timelineRow = true
        rebuildTiles()
        let clock = PlaybackClock(at: start, speed: pace)
        synchronizedClock = clock
        synchronizedPlayers = []
        for tile in tiles {
            do {
                synchronizedPlayers.append(
                    try makePlayer(recordings, camera: tile.cameraID, tile: tile, at: start, speed: pace, clock: clock))
                if recordings.consoleAuditsPlayback { record(.playback, cameraID: tile.cameraID, detail: "opened (synchronised)", from: start) }
            } catch {
                showMessage("cannot play \(tile.cameraID): \(error)", now: Date())
            }
        }
        showMessage("\(synchronizedPlayers.count) cameras at the same recorded time", now: Date())
    }

    /// The playback showing starts again where it is, under the grounds just given: the
    /// recorder checks them when a stream opens, so one refused for want of a reason (or
    /// played under the former grounds) is asked for again.
    func replayUnderNewGrounds() {
        if let player, case .isolated = mode {
            let state = player.current
            startPlayback(at: state.position, speed: state.speed)
            if state.paused { self.player?.togglePause() }
        } else if case .synchronized(let cameras) = mode, let clock = synchronizedClock {
            startSynchronized(cameras, at: clock.now(), speed: clock.speed)
        }
    }

    /// A player of `camera`'s recordings sized to `tile`, under the consultation's grounds.
    func makePlayer(
        _ recordings: any ConsoleRecordings, camera: String, tile: Tile, at time: Date, speed: Double, clock: PlaybackClock? = nil
    ) throws(MediaError) -> Player {
        try Player(
            packets: recordings.packets(camera: camera, reason: grounds.reason, requisition: grounds.requisition), width: tile.renderer.pixelWidth,
            height: tile.renderer.pixelHeight, at: time, speed: speed, clock: clock)
    }

    /// After the terminal's size changed: players decode at their tiles' new sizes (each
    /// started again where it was; the pictures of the old size would not be drawn).
    func fitPlayers() {
        if let player, case .isolated = mode, let tile = tiles.first, player.width != tile.renderer.pixelWidth || player.height != tile.renderer.pixelHeight {
            let state = player.current
            startPlayback(at: state.position, speed: state.speed)
            if state.paused { self.player?.togglePause() }
        }
        guard let clock = synchronizedClock, let recordings else { return }
        for index in synchronizedPlayers.indices where index < tiles.count {
            let tile = tiles[index], old = synchronizedPlayers[index]
            guard old.width != tile.renderer.pixelWidth || old.height != tile.renderer.pixelHeight else { continue }
            old.stop()
            if let made = try? makePlayer(recordings, camera: tile.cameraID, tile: tile, at: clock.now(), speed: clock.speed, clock: clock) {
                synchronizedPlayers[index] = made
                tiles[index].lastSequence = 0
            }
        }
    }

    func seekSynchronized(to time: Date) {
        synchronizedClock?.seek(to: time)
        for player in synchronizedPlayers { player.seek(to: time) }
    }

    /// Tile `index` shows another camera from the clock's time (the others go on).
    func swapSynchronized(_ index: Int, _ camera: String) {
        guard let clock = synchronizedClock, let recordings, index < synchronizedPlayers.count else { return }
        if let refusal = options.playbackRefusal(camera) {
            showMessage("refused: \(refusal)", now: Date())
            return
        }
        synchronizedPlayers[index].stop()
        rebuildTiles()
        guard index < tiles.count else { return }
        let tile = tiles[index]
        do {
            synchronizedPlayers[index] = try makePlayer(recordings, camera: camera, tile: tile, at: clock.now(), speed: clock.speed, clock: clock)
        } catch {
            showMessage("cannot play \(camera): \(error)", now: Date())
        }
        record(.isolated, cameraID: camera, detail: "swapped into the synchronised wall")
    }

    func stopSynchronized() {
        // All asked at once, then half a second for all of them: the console's thread never waits longer.
        for player in synchronizedPlayers { player.requestStop() }
        let deadline = DispatchTime.now() + 0.5
        for player in synchronizedPlayers { player.waitStopped(until: deadline) }
        synchronizedPlayers = []
        synchronizedClock = nil
    }

    /// Back to live; the audit log gets the period that was watched.
    func stopPlayback() {
        timelineRow = false
        guard let player else { return }
        self.player = nil
        let state = player.current
        player.stop()
        // Through the recorder, the recorder audits what it sent.
        if recordings?.consoleAuditsPlayback == true {
            record(.playback, cameraID: player.camera, detail: "watched", from: state.watchedFrom, to: state.watchedTo)
        }
    }

    /// The camera whose timeline is drawn and the time shown: the isolated playback's, or
    /// the synchronised wall's focus at the wall's time.
    private var timelineFocus: (camera: String, position: Date)? {
        switch mode {
        case .isolated: return player.map { ($0.camera, $0.current.position) }
        case .synchronized:
            guard let clock = synchronizedClock, selected < synchronizedPlayers.count else { return nil }
            return (synchronizedPlayers[selected].camera, clock.now())
        case .wall: return nil
        }
    }

    func drawTimeline() {
        guard let facts, let (camera, position) = timelineFocus else { return }
        facts.want(cameras: tiles.map(\.cameraID), timeline: (camera, position))
        // Until the spans come (from the catalog or the recorder), the row stays empty: never a guess.
        let span = 600.0, row = curses.rows - 2
        let from = position.addingTimeInterval(-span / 2), to = position.addingTimeInterval(span / 2)
        guard let spans = facts.spans(camera: camera, covering: from, to: to) else { return }
        // The passages searched for on this camera (the route followed), said at the end.
        let marks = state.timelineMarks.filter { $0.camera == camera && $0.end >= from && $0.start <= to }
        let legend = marks.isEmpty ? "" : (state.timelineMarks.count > 1 ? "▲ route " : "▲ passage ")
        let label = " \(clock.string(from: from)) ", end = " \(clock.string(from: to)) " + legend
        let width = curses.columns - label.count - end.count
        guard width > 10 else { return }
        let cells = Timeline.cells(
            width: width, cursor: position, span: span, recorded: spans.recorded, held: spans.held, marks: marks.map { ($0.start, $0.end) })
        curses.put(label, row: row, column: 0, width: label.count, style: .status)
        var column = label.count, index = 0
        while index < cells.count {
            var run = index
            while run < cells.count && cells[run] == cells[index] { run += 1 }
            let (glyph, style): (String, Curses.Style) =
                switch cells[index] {
                case .recorded: ("━", .recorded)
                case .held: ("━", .held)
                case .missing: ("·", .dim)
                case .cursor: ("┃", .playback)
                case .passage: ("▲", .passage)
                }
            curses.put(String(repeating: glyph, count: run - index), row: row, column: column, width: run - index, style: style)
            column += run - index
            index = run
        }
        curses.put(end, row: row, column: column, width: end.count, style: .status)
    }
}
