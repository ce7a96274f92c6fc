@testable import Console
import Testing

/// What the console draws with ncurses: a control character in a label (a CR, an ESC) would
/// be obeyed, moving the cursor over the next label; it is drawn as one visible cell instead,
/// so labels keep their width.
@Suite struct LabelTextTests {
    @Test func controlCharactersBecomeOneVisibleCellAndWidthsHold() {
        #expect(Curses.fit("Rue\rA", width: 7) == "Rue\u{FFFD}A  ")
        #expect(Curses.fit("\u{1B}]0;x\u{07}", width: 6) == "\u{FFFD}]0;x\u{FFFD}")
        #expect(Curses.fit("Place Plumereau nord", width: 8) == "Place P…")
        #expect(Curses.fit("a\u{9B}31m", width: 5).count == 5)
    }
}
