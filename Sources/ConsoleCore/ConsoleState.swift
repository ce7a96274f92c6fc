public import Foundation
public import RecorderAPI
public import RecorderCore

/// A key as the console's state sees it: the view maps the terminal's keys (and a click,
/// to the tile under it) to these.
public enum ConsoleKey: Hashable, Sendable {
    case character(Character)
    case enter, escape, backspace, up, down, left, right, pageUp, pageDown, resize
    /// A click on the wall's tile `index`.
    case clickTile(index: Int, double: Bool)
}

/// What a key asks of the console: its view, its players and its audit log carry it out.
public enum ConsoleAction: Equatable, Sendable {
    case quit
    /// The tiles on screen change (a page, the grid, a filter, the terminal's size).
    case rebuildTiles
    /// An overlay went: every picture is drawn anew.
    case redrawAll
    /// An overlay came over the pictures.
    case clearScreen
    /// The camera full pane (from the wall, or the next one: in playback it plays at the same time).
    case isolate(camera: String, detail: String?)
    /// Back to the wall from the camera that was isolated.
    case returnToWall(from: String)
    case startPlayback(at: Date)
    case seekPlaybackBy(seconds: Double)
    case seekPlaybackTo(Date)
    case togglePlaybackPause
    case changePlaybackSpeed(by: Int)
    case stepPlayback
    case backToLive
    case toggleRotation
    case nextPage
    case previousPage
    case nextGrid
    /// A line for the status bar.
    case message(String)
    /// The requisition (its number) or the reason later playbacks are consulted under; empty: none.
    case consultUnder(String)
    /// A synchronised playback wall of these cameras, at the playback's time.
    case synchronize(cameras: [String])
    /// The tile `index` of the synchronised wall shows `camera` now, at the same time.
    case swapSynchronized(index: Int, camera: String)
    /// Back from the synchronised wall to one camera's playback.
    case leaveSynchronized(to: String)
    /// A requisition's footage, under it: its camera, or its cameras on a synchronised wall, from `at`.
    case openRequisition(number: String, cameras: [String], at: Date)
    /// The analysis of a requisition's footage for search: started (or resumed), or stopped.
    case startAnalysis(requisition: String)
    case stopAnalysis(requisition: String)
}

/// The console without its terminal: which mode and overlay it is in, the selection, the
/// filter; keys in, actions out. Plain Swift, tested without a terminal, a camera or a
/// network; the ncurses view draws it and carries its actions out.
public struct ConsoleState: Sendable {
    public enum Mode: Equatable, Sendable {
        case wall
        case isolated(cameraID: String)
        /// Recordings of several cameras at one time, driven together; `selected` is the focus.
        case synchronized(cameras: [String])
    }

    /// Most tiles of a synchronised wall (2x2: each is a playback stream from the recorder).
    public static let synchronizedLimit = 4

    public enum Overlay: Equatable, Sendable {
        case none, help, confirmQuit
        /// A line being typed: `:` a camera, `/` a name to filter on, `t` a date and time, `R`
        /// the requisition or reason recordings are consulted under.
        case prompt(kind: Character, text: String)
        /// The isolated camera's neighbours, to choose the next one by its key.
        case neighbours(of: String, ids: [String])
        /// The requisitions open to consultation, to open one by its key: its footage, or
        /// (`search`) its investigation screen.
        case requisitions(search: Bool)
        /// A requisition's investigation screen: analysis, search, following (the whole screen).
        case search(SearchScreen)
    }

    /// The wall shows only the cameras whose name contains a text.
    public struct Filter: Equatable, Sendable {
        public var text: String
        public var ids: [String]
        public init(text: String, ids: [String]) {
            self.text = text
            self.ids = ids
        }
    }

    /// What the state needs to know of the screen and the site when a key comes.
    public struct Context {
        public var now: Date
        /// The cameras on screen, in tile order.
        public var tiles: [String]
        public var gridColumns: Int
        public var inventory: CameraInventory
        public var mayView: (String) -> Bool
        /// nil while the pane shows live; else whether the playback is paused.
        public var playbackPaused: Bool?
        /// The requisitions open to consultation, when they are known.
        public var requisitions: [RequisitionChoice]? = nil
        /// Whether the account may play a camera's recordings (nil: as `mayView`).
        public var mayPlay: ((String) -> Bool)? = nil
        /// The requisition recordings are consulted under, if one is (the investigation screen opens on it).
        public var currentRequisition: String? = nil
        /// What the investigation screen shows, while it is open.
        public var searchResults: [PassageInfo]? = nil
        /// How many results the investigation screen shows at once.
        public var searchRows = 1
        /// Following: the route the recorder chained.
        public var searchRoute: [PassageInfo]? = nil

        /// Whether a camera may be shown now: live, or in playback its recordings (vidéoprotection: never live).
        public func mayShow(_ camera: String) -> Bool {
            playbackPaused != nil ? (mayPlay ?? mayView)(camera) : mayView(camera)
        }

        public init(now: Date, tiles: [String], gridColumns: Int, inventory: CameraInventory, mayView: @escaping (String) -> Bool, playbackPaused: Bool?) {
            self.now = now
            self.tiles = tiles
            self.gridColumns = gridColumns
            self.inventory = inventory
            self.mayView = mayView
            self.playbackPaused = playbackPaused
        }
    }

    /// The keys that pick a neighbour: 1 to 9, then a to w (a camera has at most 32).
    public static let choiceKeys: [Character] = Array("123456789abcdefghijklmnopqrstuvw")

    public var mode = Mode.wall
    public var overlay = Overlay.none
    /// The selected tile of the wall.
    public var selected = 0
    public var filter: Filter?
    /// The investigation screen as it was left (S opens it again, as it was).
    public var lastSearch: SearchScreen?
    /// The help was opened from the investigation screen: closing it goes back there.
    private var helpOverSearch = false
    /// The passages the playback opened from the investigation screen marks on its
    /// cameras' timelines (the route when following); empty otherwise.
    public private(set) var timelineMarks: [TimelineMark] = []

    public init() {}

    public mutating func handle(_ key: ConsoleKey, _ context: Context) -> [ConsoleAction] {
        let actions = handleKey(key, context)
        // Marks belong to the playback the search opened: gone with it.
        if mode == .wall || actions.contains(where: { if case .backToLive = $0 { true } else { false } }) { timelineMarks = [] }
        return actions
    }

    private mutating func handleKey(_ key: ConsoleKey, _ context: Context) -> [ConsoleAction] {
        switch overlay {
        case .help:
            if helpOverSearch, let lastSearch {
                helpOverSearch = false
                overlay = .search(lastSearch)
                return [.clearScreen]
            }
            overlay = .none
            return [.redrawAll]
        case .confirmQuit:
            overlay = .none
            return key == .character("y") || key == .character("Y") ? [.quit] : []
        case .prompt(let kind, let text):
            return typed(key, kind: kind, text: text, context)
        case .search(var screen):
            return searchKey(key, &screen, context)
        case .requisitions(let search):
            overlay = .none
            guard case .character(let character) = key, let index = ConsoleState.choiceKeys.firstIndex(of: character),
                let list = context.requisitions, index < list.count
            else { return [.redrawAll] }
            let choice = list[index]
            if search {
                overlay = .search(lastSearch?.requisition == choice.number ? lastSearch! : SearchScreen(requisition: choice.number))
                return [.clearScreen]
            }
            let cameras = Array(
                (choice.cameras.isEmpty ? context.inventory.cameras.map(\.id) : choice.cameras).filter {
                    context.inventory.camera($0) != nil && (context.mayPlay ?? context.mayView)($0)
                }
                    .prefix(ConsoleState.synchronizedLimit))
            guard let first = cameras.first else { return [.redrawAll, .message("requisition \(choice.number) names no camera of this site")] }
            timelineMarks = []
            mode = cameras.count == 1 ? .isolated(cameraID: first) : .synchronized(cameras: cameras)
            selected = 0
            return [.redrawAll, .openRequisition(number: choice.number, cameras: cameras, at: choice.opensAt)]
        case .neighbours(let of, let ids):
            overlay = .none
            if case .character(let character) = key, let index = ConsoleState.choiceKeys.firstIndex(of: character), index < ids.count {
                if case .synchronized(var cameras) = mode, selected < cameras.count {
                    cameras[selected] = ids[index]
                    mode = .synchronized(cameras: cameras)
                    return [.redrawAll, .swapSynchronized(index: selected, camera: ids[index])]
                }
                return [.redrawAll] + isolate(ids[index], detail: "neighbour \(index + 1) of \(of)", context)
            }
            return [.redrawAll]
        case .none:
            break
        }
        let playing = context.playbackPaused != nil
        switch (key, mode) {
        case (.resize, _):
            return [.rebuildTiles]
        case (.character("?"), _):
            overlay = .help
            return [.clearScreen]
        case (.character("q"), _):
            overlay = .confirmQuit
        case (.character("R"), _):
            overlay = .prompt(kind: "R", text: "")
        case (.character("r"), _):
            overlay = .requisitions(search: false)
            return [.clearScreen]
        case (.character("S"), _):
            if let last = lastSearch, context.currentRequisition == nil || context.currentRequisition == last.requisition {
                overlay = .search(last)
            } else if let number = context.currentRequisition {
                overlay = .search(SearchScreen(requisition: number))
            } else {
                overlay = .requisitions(search: true)
            }
            return [.clearScreen]
        case (.character(":"), _), (.character("/"), _):
            if case .character(let kind) = key { overlay = .prompt(kind: kind, text: "") }
        case (.character(" "), _) where playing:
            return [.togglePlaybackPause]
        case (.character(" "), _):
            return [.toggleRotation]
        case (.character(let character), .synchronized) where "[]{}".contains(character) && playing:
            return [.seekPlaybackBy(seconds: ["[": -10, "]": 10, "{": -60, "}": 60][character] ?? 0)]
        case (.character("t"), .synchronized):
            overlay = .prompt(kind: "t", text: "")
        case (.character("W"), .isolated(let id)) where playing:
            let neighbours = (context.inventory.camera(id)?.neighbours ?? []).filter { context.mayShow($0) && context.inventory.camera($0) != nil }
            if neighbours.isEmpty { return [.message("no neighbouring camera to play beside this one")] }
            let cameras = Array(([id] + neighbours).prefix(ConsoleState.synchronizedLimit))
            mode = .synchronized(cameras: cameras)
            selected = 0
            return [.synchronize(cameras: cameras)]
        case (.escape, .synchronized(let cameras)), (.backspace, .synchronized(let cameras)):
            let focus = cameras[min(selected, cameras.count - 1)]
            mode = .isolated(cameraID: focus)
            return [.leaveSynchronized(to: focus)]
        case (.character("L"), .synchronized(let cameras)):
            let focus = cameras[min(selected, cameras.count - 1)]
            mode = .isolated(cameraID: focus)
            return [.leaveSynchronized(to: focus), .backToLive]
        case (.up, .synchronized), (.character("k"), .synchronized): move(rows: -1, context)
        case (.down, .synchronized), (.character("j"), .synchronized): move(rows: 1, context)
        case (.left, .synchronized), (.character("h"), .synchronized): move(columns: -1, context)
        case (.right, .synchronized), (.character("l"), .synchronized): move(columns: 1, context)
        case (.clickTile(let index, _), .synchronized):
            if index < context.tiles.count { selected = index }
        case (.character("N"), .synchronized(let cameras)):
            let focus = cameras[min(selected, cameras.count - 1)]
            guard let camera = context.inventory.camera(focus) else { break }
            let neighbours = camera.neighbours.filter { context.mayShow($0) && context.inventory.camera($0) != nil && !cameras.contains($0) }
            if neighbours.isEmpty { return [.message("\(camera.name) has no other neighbouring camera to swap in")] }
            overlay = .neighbours(of: focus, ids: Array(neighbours.prefix(ConsoleState.choiceKeys.count)))
        case (.character(let character), .isolated) where "[]{}".contains(character):
            let step: Double = ["[": -10, "]": 10, "{": -60, "}": 60][character] ?? 0
            if playing { return [.seekPlaybackBy(seconds: step)] }
            return step < 0 ? [.startPlayback(at: context.now.addingTimeInterval(step))] : []  // rewind from live
        case (.character("t"), .isolated):
            overlay = .prompt(kind: "t", text: "")
        case (.character("+"), _) where playing, (.character("="), _) where playing:
            return [.changePlaybackSpeed(by: 1)]
        case (.character("-"), _) where playing:
            return [.changePlaybackSpeed(by: -1)]
        case (.character("."), _) where context.playbackPaused == true:
            return [.stepPlayback]
        case (.character("L"), _) where playing:
            return [.backToLive]
        case (.character("n"), .wall), (.pageDown, .wall):
            return [.nextPage]
        case (.character("p"), .wall), (.pageUp, .wall):
            return [.previousPage]
        case (.character("g"), .wall):
            return [.nextGrid]
        case (.enter, .wall), (.character("i"), .wall):
            if selected < context.tiles.count { return isolate(context.tiles[selected], detail: nil, context) }
        case (.escape, .isolated(let id)), (.backspace, .isolated(let id)):
            mode = .wall
            return [.returnToWall(from: id)]
        case (.escape, .wall), (.backspace, .wall):
            if filter != nil {
                filter = nil
                return [.rebuildTiles]
            }
        case (.up, .wall), (.character("k"), .wall): move(rows: -1, context)
        case (.down, .wall), (.character("j"), .wall): move(rows: 1, context)
        case (.left, .wall), (.character("h"), .wall): move(columns: -1, context)
        case (.right, .wall), (.character("l"), .wall): move(columns: 1, context)
        case (.left, .isolated(let id)), (.character("h"), .isolated(let id)):
            return step(from: id, by: -1, context)
        case (.right, .isolated(let id)), (.character("l"), .isolated(let id)):
            return step(from: id, by: 1, context)
        case (.character("N"), .isolated(let id)):
            guard let camera = context.inventory.camera(id) else { break }
            let neighbours = camera.neighbours.filter { context.mayShow($0) && context.inventory.camera($0) != nil }
            if neighbours.isEmpty { return [.message("\(camera.name) has no neighbouring camera in the site file")] }
            overlay = .neighbours(of: id, ids: Array(neighbours.prefix(ConsoleState.choiceKeys.count)))
        case (.clickTile(let index, let double), .wall):
            guard index < context.tiles.count else { break }
            selected = index
            if double { return isolate(context.tiles[index], detail: nil, context) }
        default:
            break
        }
        return []
    }

    /// A key on the investigation screen.
    private mutating func searchKey(_ key: ConsoleKey, _ screen: inout SearchScreen, _ context: Context) -> [ConsoleAction] {
        switch key {
        case .character("?"):
            lastSearch = screen
            helpOverSearch = true
            overlay = .help
            return [.clearScreen]
        case .character("q"):
            lastSearch = screen
            overlay = .confirmQuit
            return []
        case .resize:
            return [.rebuildTiles]
        default:
            break
        }
        let searchContext = SearchScreen.Context(
            results: context.searchResults, route: context.searchRoute, visibleRows: context.searchRows,
            neighbours: { context.inventory.camera($0)?.neighbours.filter { context.inventory.camera($0) != nil } ?? [] },
            mayPlay: { context.inventory.camera($0) != nil && (context.mayPlay ?? context.mayView)($0) })
        let outcome = screen.handle(key, searchContext)
        lastSearch = screen
        overlay = .search(screen)
        switch outcome {
        case .stay: return []
        case .close:
            overlay = .none
            return [.redrawAll]
        case .play(_, let cameras, let at, let marks):
            overlay = .none
            mode = cameras.count == 1 ? .isolated(cameraID: cameras[0]) : .synchronized(cameras: cameras)
            selected = 0
            timelineMarks = marks
            return [.redrawAll, .openRequisition(number: screen.requisition, cameras: cameras, at: at)]
        case .startAnalysis: return [.startAnalysis(requisition: screen.requisition)]
        case .stopAnalysis: return [.stopAnalysis(requisition: screen.requisition)]
        case .chooseRequisition:
            overlay = .requisitions(search: true)
            return [.clearScreen]
        case .message(let text): return [.message(text)]
        }
    }

    /// A key while a line is typed.
    private mutating func typed(_ key: ConsoleKey, kind: Character, text: String, _ context: Context) -> [ConsoleAction] {
        switch key {
        case .escape:
            overlay = .none
        case .backspace:
            overlay = .prompt(kind: kind, text: String(text.dropLast()))
        case .character(let character):
            overlay = .prompt(kind: kind, text: text + String(character))
        case .enter:
            overlay = .none
            let query = text.trimmingCharacters(in: .whitespaces)
            if kind == "R" { return [.consultUnder(query)] }
            guard !query.isEmpty else { return [] }
            switch kind {
            case "t":
                do {
                    let time = try LocalTime.parse(query, timeZone: context.inventory.site.timeZone)
                    return [context.playbackPaused != nil ? .seekPlaybackTo(time) : .startPlayback(at: time)]
                } catch {
                    return [.message(error.description)]
                }
            case ":":
                guard let camera = context.inventory.camera(query), context.mayShow(camera.id) else { return [.message("no camera \(query)")] }
                return isolate(camera.id, detail: "typed \(query)", context)
            default:
                let folded = ConsoleState.fold(query)
                let ids = context.inventory.cameras.filter { ConsoleState.fold($0.name + " " + $0.location + " " + $0.id).contains(folded) }.map(\.id)
                guard !ids.isEmpty else { return [.message("no camera matches \(query)")] }
                var actions: [ConsoleAction] = []
                if case .isolated(let id) = mode { actions.append(.returnToWall(from: id)) }
                filter = Filter(text: query, ids: ids)
                mode = .wall
                selected = 0
                return actions + [.rebuildTiles]
            }
        default:
            break
        }
        return []
    }

    static func fold(_ text: String) -> String { text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil) }

    private mutating func isolate(_ camera: String, detail: String?, _ context: Context) -> [ConsoleAction] {
        guard context.mayShow(camera) else { return [] }
        mode = .isolated(cameraID: camera)
        return [.isolate(camera: camera, detail: detail)]
    }

    /// The previous or next camera of the site the account may watch, around.
    private mutating func step(from id: String, by offset: Int, _ context: Context) -> [ConsoleAction] {
        let cameras = context.inventory.cameras.filter { context.mayShow($0.id) }
        guard let index = cameras.firstIndex(where: { $0.id == id }) else { return [] }
        return isolate(cameras[(index + offset + cameras.count) % cameras.count].id, detail: nil, context)
    }

    private mutating func move(rows: Int = 0, columns: Int = 0, _ context: Context) {
        guard !context.tiles.isEmpty, context.gridColumns > 0 else { return }
        let width = context.gridColumns
        var row = selected / width + rows, column = selected % width + columns
        row = max(0, min(row, (context.tiles.count - 1) / width))
        column = max(0, min(column, width - 1))
        selected = min(context.tiles.count - 1, row * width + column)
    }
}
