import Testing
import Wall

/// Pictures keep their shape in tiles and in the full pane: a 4:3 camera (704x576 with 12:11
/// samples, 768x576) is not stretched to 16:9.
@Suite struct PictureFitTests {
    @Test func aPictureKeepsItsShapeCentredInItsTile() {
        let tile = CellRect(row: 1, column: 0, rows: 20, columns: 80)
        // 16:9 in 80x20 cells (cells twice as tall as wide): 71 columns by 20 rows.
        let wide = PictureFit.cells(in: tile, aspect: 16.0 / 9.0)
        #expect(wide.rows == 20 && wide.columns == 71 && wide.column == 4)
        // 4:3: 53 columns, centred.
        let pal = PictureFit.cells(in: tile, aspect: 704.0 * 12 / 11 / 576)
        #expect(pal.rows == 20 && pal.columns == 53 && pal.column == 13 && pal.row == 1)
        // A tall tile: full width, rows shrink.
        let narrow = PictureFit.cells(in: CellRect(row: 0, column: 10, rows: 40, columns: 40), aspect: 4.0 / 3.0)
        #expect(narrow.columns == 40 && narrow.rows == 15 && narrow.row == 12)
        // Nonsense shapes fall back to 16:9, never to nothing.
        #expect(PictureFit.cells(in: tile, aspect: .nan) == wide)
        #expect(PictureFit.cells(in: CellRect(row: 0, column: 0, rows: 1, columns: 1), aspect: 100).columns == 1)
    }

    @Test func sixelPixelsKeepTheShapeToo() {
        let fit = PictureFit.pixels(in: CellRect(row: 0, column: 0, rows: 24, columns: 80), aspect: 4.0 / 3.0, cellWidth: 10, cellHeight: 20)
        #expect(fit.width == 640 && fit.height == 480)
        #expect(fit.cells.columns == 64 && fit.cells.column == 8 && fit.cells.rows == 24)
    }
}
