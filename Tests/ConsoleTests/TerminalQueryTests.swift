import Console
import Testing

/// Terminfo read through ncurses, on the entries Debian ships (ncurses-base, ncurses-term).
@Suite struct TerminalQueryTests {
    @Test(arguments: [("xterm-direct", true), ("tmux-direct", true), ("xterm-256color", false), ("linux", false), ("no-such-terminal", false)])
    func terminfoSaysWhichTerminalsTakeTwentyFourBitColours(term: String, direct: Bool) {
        #expect(TerminalQuery.terminfoDirectColour(term: term) == direct)
    }
}
