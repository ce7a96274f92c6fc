internal import CCairo
public import Foundation

/// Lines of text set on A4 pages through cairo's PDF surface: a title, a running header
/// with the page's number, monospaced lines (long ones wrapped). What the registers and the
/// compliance report are printed as; `pdftotext` gives their text back.
public enum PDFText {
    public struct Line: Sendable {
        public var text: String
        public var heading: Bool
        public init(_ text: String, heading: Bool = false) {
            self.text = text
            self.heading = heading
        }
    }

    static let width = 595.0, height = 842.0, margin = 42.0, size = 8.5, leading = 11.5
    static let columns = 96

    public static func write(title: String, footer: String, lines: [Line], to path: String) throws {
        // Wrapped first, so the pages are counted before they are drawn.
        var set: [Line] = []
        for line in lines {
            var rest = Substring(line.text)
            repeat {
                // At the last blank that fits, else at the width.
                var cut = rest.count <= columns ? rest.endIndex : rest.index(rest.startIndex, offsetBy: columns)
                if cut != rest.endIndex, let blank = rest[..<cut].lastIndex(of: " "), rest.distance(from: rest.startIndex, to: blank) > columns / 2 { cut = blank }
                set.append(Line(String(rest[..<cut]), heading: line.heading))
                rest = rest[cut...].drop { $0 == " " }
                if !rest.isEmpty { rest = "      " + rest }
            } while !rest.isEmpty
        }
        let perPage = Int((height - 2 * margin - 40) / leading)
        let pages = max(1, (set.count + perPage - 1) / perPage)
        guard let surface = cairo_pdf_surface_create(path, width, height) else { throw EvidenceError("cairo cannot make \(path)") }
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw EvidenceError("cannot write \(path): \(String(cString: cairo_status_to_string(cairo_surface_status(surface))))")
        }
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title)
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Vigie")
        guard let context = cairo_create(surface) else { throw EvidenceError("cairo: no drawing context") }
        defer { cairo_destroy(context) }
        for page in 0..<pages {
            cairo_set_source_rgb(context, 0, 0, 0)
            cairo_select_font_face(context, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD)
            cairo_set_font_size(context, 11)
            cairo_move_to(context, margin, margin)
            cairo_show_text(context, title)
            cairo_select_font_face(context, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
            cairo_set_font_size(context, 7.5)
            cairo_move_to(context, margin, height - margin + 14)
            cairo_show_text(context, "\(footer) — page \(page + 1)/\(pages)")
            var y = margin + 24
            for line in set.dropFirst(page * perPage).prefix(perPage) {
                cairo_select_font_face(context, "monospace", CAIRO_FONT_SLANT_NORMAL, line.heading ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
                cairo_set_font_size(context, size)
                cairo_move_to(context, margin, y)
                cairo_show_text(context, line.text)
                y += leading
            }
            cairo_show_page(context)
        }
        cairo_surface_finish(surface)
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw EvidenceError("cannot write \(path): \(String(cString: cairo_status_to_string(cairo_surface_status(surface))))")
        }
    }
}
