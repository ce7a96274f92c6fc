/// A classic 5x7 dot-matrix bitmap font, as found on LCD/LED character
/// displays, used by simulated CCTV cameras to burn their on-screen display
/// (camera name, date and time) into each frame, the way real cameras do.
///
/// Each glyph is 7 rows of 5 pixels. A row is a bitmask where bit 4 is the
/// leftmost pixel and bit 0 the rightmost. Lowercase letters use the uppercase
/// glyphs, French accented letters use their base letter, and any character
/// the font does not know is drawn as `?`.
///
/// Lookups are table-driven (a 128-entry array indexed by ASCII code, plus a
/// small dictionary for accented letters), so the font can be consulted for
/// every character of every frame cheaply.
public enum OSDFont {
    /// Width of one glyph, in pixels (before scaling).
    public static let glyphWidth = 5
    /// Height of one glyph, in pixels (before scaling).
    public static let glyphHeight = 7

    /// Returns the 7 row bitmasks of `character` (top row first; bit 4 is the
    /// leftmost pixel, bit 0 the rightmost). Unknown characters return the
    /// glyph of `?`.
    public static func rows(for character: Character) -> [UInt8] {
        if let ascii = character.asciiValue {
            return asciiGlyphs[Int(ascii)]
        }
        if let base = accentBase[character] {
            return asciiGlyphs[Int(base)]
        }
        return asciiGlyphs[questionMark]
    }

    /// Pixel width of `text` when drawn with 1 column of spacing between
    /// glyphs (none after the last one), multiplied by `scale`.
    public static func textWidth(_ text: String, scale: Int) -> Int {
        let count = text.count
        guard count > 0 else { return 0 }
        return (count * glyphWidth + (count - 1)) * scale
    }

    // MARK: - Tables

    private static let questionMark = 0x3F

    /// Accented (and a few typographic) characters mapped to the ASCII code
    /// of the glyph used to draw them.
    private static let accentBase: [Character: UInt8] = {
        let pairs: [(String, Character)] = [
            ("ÉÈÊËéèêë", "E"),
            ("ÀÂÄàâä", "A"),
            ("Çç", "C"),
            ("ÎÏîï", "I"),
            ("ÔÖôöŒœ", "O"),
            ("ÛÙÜûùü", "U"),
            ("Ÿÿ", "Y"),
            ("\u{2019}\u{2018}", "'"),
            ("\u{2013}\u{2014}", "-"),
            ("\u{00A0}", " "),
        ]
        var table: [Character: UInt8] = [:]
        for (variants, base) in pairs {
            for variant in variants {
                table[variant] = base.asciiValue!
            }
        }
        return table
    }()

    /// 128 glyphs indexed by ASCII code; characters without a glyph hold the
    /// `?` glyph. Lowercase letters hold the uppercase glyphs.
    private static let asciiGlyphs: [[UInt8]] = {
        let defined: [Character: [UInt8]] = [
            " ": [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000],
            "!": [0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000, 0b00100],
            "#": [0b01010, 0b01010, 0b11111, 0b01010, 0b11111, 0b01010, 0b01010],
            "&": [0b01100, 0b10010, 0b10100, 0b01000, 0b10101, 0b10010, 0b01101],
            "'": [0b01100, 0b00100, 0b01000, 0b00000, 0b00000, 0b00000, 0b00000],
            "(": [0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010],
            ")": [0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000],
            "+": [0b00000, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0b00000],
            ",": [0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b00100, 0b01000],
            "-": [0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000],
            ".": [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100],
            "/": [0b00000, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b00000],
            "0": [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
            "1": [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
            "2": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
            "3": [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
            "4": [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
            "5": [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
            "6": [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
            "7": [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
            "8": [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
            "9": [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
            ":": [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000],
            "?": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b00000, 0b00100],
            "A": [0b01110, 0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001],
            "B": [0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110],
            "C": [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110],
            "D": [0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100],
            "E": [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111],
            "F": [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000],
            "G": [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111],
            "H": [0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
            "I": [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
            "J": [0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100],
            "K": [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001],
            "L": [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111],
            "M": [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001],
            "N": [0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001],
            "O": [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
            "P": [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000],
            "Q": [0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101],
            "R": [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001],
            "S": [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110],
            "T": [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100],
            "U": [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
            "V": [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100],
            "W": [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010],
            "X": [0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001],
            "Y": [0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100],
            "Z": [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111],
            "_": [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b11111],
        ]
        let fallback = defined["?"]!
        var table = [[UInt8]](repeating: fallback, count: 128)
        for (character, rows) in defined {
            precondition(rows.count == 7, "OSDFont glyph must have 7 rows")
            let code = Int(character.asciiValue!)
            table[code] = rows
            // Lowercase letters share the uppercase glyphs.
            if character.isLetter {
                table[code + 0x20] = rows
            }
        }
        return table
    }()
}
