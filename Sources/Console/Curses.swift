import CNcursesw
import Foundation
import RecorderCore

/// The ncurses side of the console: the only place that calls ncurses. Owns the screen
/// between `start()` and `stop()`, draws text (labels, status bar, help, prompts) and
/// reads keys. Used from the console's one thread.
final class Curses {
    private(set) var columns = 80
    private(set) var rows = 24
    private var started = false

    enum Style { case normal, label, selected, status, warning, dim, recorded, held, playback, passage }

    func start() {
        setlocale(LC_ALL, "")
        _ = initscr()
        started = true
        cbreak()
        noecho()
        nonl()
        keypad(vigie_stdscr(), true)
        nodelay(vigie_stdscr(), true)
        curs_set(0)
        set_escdelay(25)
        if has_colors() {
            start_color()
            use_default_colors()
            init_pair(1, Int16(COLOR_WHITE), Int16(COLOR_BLUE))  // status bar
            init_pair(2, Int16(COLOR_BLACK), Int16(COLOR_CYAN))  // selected label
            init_pair(3, Int16(COLOR_WHITE), Int16(COLOR_RED))  // no signal
            init_pair(4, Int16(COLOR_CYAN), -1)  // labels
            init_pair(5, Int16(COLOR_GREEN), -1)  // recorded footage on the timeline
            init_pair(6, Int16(COLOR_MAGENTA), -1)  // held footage on the timeline
            init_pair(7, Int16(COLOR_BLACK), Int16(COLOR_YELLOW))  // PLAYBACK label
            init_pair(8, Int16(COLOR_YELLOW), -1)  // a passage searched for, on the timeline
        }
        mousemask(vigie_button1_clicked() | vigie_button1_double_clicked(), nil)
        updateSize()
    }

    func stop() {
        guard started else { return }
        started = false
        curs_set(1)
        endwin()
    }

    func updateSize() {
        columns = Int(vigie_cols())
        rows = Int(vigie_lines())
    }

    private func attributes(_ style: Style) -> Int32 {
        switch style {
        case .normal: return 0
        case .label: return Int32(vigie_color_pair(4))
        case .selected: return Int32(vigie_color_pair(2)) | Int32(vigie_a_bold())
        case .status: return Int32(vigie_color_pair(1))
        case .warning: return Int32(vigie_color_pair(3)) | Int32(vigie_a_bold())
        case .dim: return 0
        case .recorded: return Int32(vigie_color_pair(5))
        case .held: return Int32(vigie_color_pair(6)) | Int32(vigie_a_bold())
        case .playback: return Int32(vigie_color_pair(7)) | Int32(vigie_a_bold())
        case .passage: return Int32(vigie_color_pair(8)) | Int32(vigie_a_bold())
        }
    }

    /// Writes `text` at a place, cut or padded to `width` cells.
    func put(_ text: String, row: Int, column: Int, width: Int, style: Style = .normal) {
        guard row >= 0, row < rows, column >= 0, column < columns, width > 0 else { return }
        let fitted = Curses.fit(text, width: min(width, columns - column))
        let attribute = attributes(style)
        wattr_on(vigie_stdscr(), attr_t(attribute), nil)
        mvwaddstr(vigie_stdscr(), Int32(row), Int32(column), fitted)
        wattr_off(vigie_stdscr(), attr_t(attribute), nil)
    }

    /// Cuts or pads to exactly `width` display cells (one cell a character here). A control
    /// character (a CR or an ESC in a camera's name) becomes one visible cell: ncurses would
    /// obey it and move the cursor over the next label.
    static func fit(_ text: String, width: Int) -> String {
        let characters = Array(TerminalText.inCells(text))
        if characters.count > width { return String(characters.prefix(max(0, width - 1))) + "…" }
        return String(characters) + String(repeating: " ", count: width - characters.count)
    }

    /// Clears the whole screen (the renderers must then redraw everything).
    func clearAll() {
        werase(vigie_stdscr())
        clearok(vigie_stdscr(), true)
    }

    /// Sends ncurses' changes to the terminal now.
    func refresh() {
        wnoutrefresh(vigie_stdscr())
        doupdate()
    }

    enum Key: Equatable {
        case character(Character)
        case up, down, left, right, enter, escape, backspace, pageUp, pageDown, resize
        case click(row: Int, column: Int, double: Bool)
    }

    /// The next key, or nil when none is waiting.
    func nextKey() -> Key? {
        let code = wgetch(vigie_stdscr())
        if code == ERR { return nil }
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_ENTER, 10, 13: return .enter
        case 27: return .escape
        case KEY_BACKSPACE, 127, 8: return .backspace
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case vigie_key_resize(): return .resize
        case vigie_key_mouse():
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            let double = event.bstate & vigie_button1_double_clicked() != 0
            return .click(row: Int(event.y), column: Int(event.x), double: double)
        default:
            // UTF-8 bytes of one character arrive one by one; operators type ASCII here.
            guard code > 0, code < 0x80, let scalar = Unicode.Scalar(UInt32(code)) else { return nil }
            return .character(Character(scalar))
        }
    }
}
