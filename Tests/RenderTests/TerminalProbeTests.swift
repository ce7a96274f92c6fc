import Render
import Testing

@Suite struct TerminalProbeTests {
    @Test func readsXtermsAnswers() {
        // What `xterm -ti vt340` answers (captured here), in one burst.
        let answer = Array("\u{1B}P>|XTerm(379)\u{1B}\\\u{1B}[6;20;10t\u{1B}[4;480;800t\u{1B}[?1;0;1024S\u{1B}[?63;1;2;4;6;9;15;16;22;28;29c".utf8)
        let capabilities = TerminalProbe.parse(answer)
        #expect(capabilities.answered && capabilities.sixel)
        #expect(capabilities.name == "XTerm(379)")
        #expect(capabilities.cellWidth == 10 && capabilities.cellHeight == 20)
        #expect(capabilities.windowWidth == 800 && capabilities.windowHeight == 480)
        #expect(capabilities.colorRegisters == 1024)
        #expect(capabilities.cellSize(columns: 80, rows: 24)! == (10, 20))
    }

    @Test func aTerminalWithoutSixelOrSizes() {
        // tmux 3.3 answers DA1 without attribute 4 and ignores the rest.
        let capabilities = TerminalProbe.parse(Array("\u{1B}[?1;2c".utf8))
        #expect(capabilities.answered && !capabilities.sixel)
        #expect(capabilities.cellSize(columns: 80, rows: 24) == nil)
    }

    @Test func windowSizeGivesTheCellSizeWhenCellSizeIsMissing() {
        let capabilities = TerminalProbe.parse(Array("\u{1B}[4;600;1000t\u{1B}[?62;4c".utf8))
        #expect(capabilities.cellSize(columns: 100, rows: 30)! == (10, 20))
    }

    @Test func incompleteAnswersAreNotComplete() {
        #expect(!TerminalProbe.isComplete(Array("\u{1B}[6;20;10t\u{1B}[?63;4".utf8)))
        #expect(TerminalProbe.isComplete(Array("junk\u{1B}[?63;4c".utf8)))
    }

    @Test func coloursFromTheEnvironmentAndTheName() {
        #expect(TerminalProbe.colorMode(environment: ["COLORTERM": "truecolor", "TERM": "xterm"], capabilities: nil) == .truecolor)
        #expect(TerminalProbe.colorMode(environment: ["TERM": "xterm-256color"], capabilities: nil) == .palette256)
        #expect(TerminalProbe.colorMode(environment: ["TERM": "linux"], capabilities: nil) == .palette16)
        var wezterm = TerminalCapabilities()
        wezterm.name = "WezTerm 20240203"
        #expect(TerminalProbe.colorMode(environment: ["TERM": "xterm-256color"], capabilities: wezterm) == .truecolor)
    }
}

@Suite struct ColourChoiceTests {
    @Test func terminfosDirectColourFlagMeansTruecolor() {
        #expect(TerminalProbe.colorMode(environment: ["TERM": "xterm-256color"], capabilities: nil, terminfoDirectColour: true) == .truecolor)
        // COLORTERM still comes first; without it nor the flag, the name decides.
        #expect(TerminalProbe.colorMode(environment: ["TERM": "xterm-256color"], capabilities: nil, terminfoDirectColour: false) == .palette256)
    }
}
