import CNcursesw
import Foundation
import Synchronization
public import Render

/// Asks the terminal what it can do (`TerminalProbe`'s query) on /dev/tty in raw mode, and
/// waits at most `timeout` for the answers, so a terminal that never answers cannot hang
/// the start. Must run before ncurses takes the terminal.
public enum TerminalQuery {
    public static func probe(timeout: Double = 0.5) -> TerminalCapabilities? {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var original = termios()
        guard tcgetattr(fd, &original) == 0 else { return nil }
        var raw = original
        cfmakeraw(&raw)
        guard tcsetattr(fd, TCSANOW, &raw) == 0 else { return nil }
        defer { tcsetattr(fd, TCSANOW, &original) }
        let query = Array(TerminalProbe.query.utf8)
        guard query.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == query.count else { return nil }
        var answer: [UInt8] = []
        let deadline = MonotonicTime.seconds() + timeout
        var buffer = [UInt8](repeating: 0, count: 512)
        while !TerminalProbe.isComplete(answer) {
            let remaining = deadline - MonotonicTime.seconds()
            if remaining <= 0 { break }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(remaining * 1000))
            if ready <= 0 { continue }
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        let capabilities = TerminalProbe.parse(answer)
        return capabilities.answered ? capabilities : nil
    }
}

extension TerminalQuery {
    /// Whether the terminfo entry of `term` (nil: $TERM's, or the one curses runs with)
    /// declares 24-bit colours: the RGB flag of ncurses' *-direct entries, or tmux's Tc.
    public static func terminfoDirectColour(term: String? = nil) -> Bool {
        // ncurses keeps the terminal it reads in a global (cur_term): one reader at a time.
        terminfoLock.withLock { _ in
            guard let term else { return vigie_terminfo_direct_colour(nil) == 1 }
            return term.withCString { vigie_terminfo_direct_colour($0) == 1 }
        }
    }

    private static let terminfoLock = Mutex(())

    /// Pixels of one cell from the kernel's window size (TIOCGWINSZ), which xterm fills
    /// even when its window operations (CSI 14/16 t) are disabled.
    public static func cellPixelsFromKernel() -> (width: Int, height: Int)? {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0, size.ws_xpixel > 0,
            size.ws_ypixel > 0
        else { return nil }
        return (Int(size.ws_xpixel) / Int(size.ws_col), Int(size.ws_ypixel) / Int(size.ws_row))
    }
}

enum MonotonicTime {
    static func seconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
